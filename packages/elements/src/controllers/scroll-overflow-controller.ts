import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Says which ends of a horizontally scrolling box have more content beyond them (`data-more-before`,
 * `data-more-after` on the box), so the styles can show that tabs past the bar's width are there and can be scrolled
 * to, instead of silently clipping them.
 */
export class ScrollOverflowController implements ReactiveController {
  #box: HTMLElement | undefined;
  #observer: ResizeObserver | undefined;

  constructor(host: ReactiveControllerHost) {
    host.addController(this);
  }

  /** Follows `box` (the same box again is a no-op); call after each render, when its children may have changed. */
  observe(box: HTMLElement | null): void {
    if (box !== this.#box) {
      this.hostDisconnected();
      if (!box) return;
      this.#box = box;
      box.addEventListener('scroll', this.#update, { passive: true });
      this.#observer = new ResizeObserver(this.#update);
      this.#observer.observe(box);
    }
    this.#update();
  }

  /** Scrolls `item` into view within the box (its offset parent: positioned), without scrolling the page. */
  reveal(item: HTMLElement | null | undefined): void {
    const box = this.#box;
    if (!box || !item) return;
    const start = item.offsetLeft;
    if (start < box.scrollLeft) box.scrollLeft = start;
    else if (start + item.offsetWidth > box.scrollLeft + box.clientWidth) box.scrollLeft = start + item.offsetWidth - box.clientWidth;
  }

  hostDisconnected(): void {
    this.#box?.removeEventListener('scroll', this.#update);
    this.#observer?.disconnect();
    this.#observer = undefined;
    this.#box = undefined;
  }

  readonly #update = (): void => {
    const box = this.#box;
    if (!box) return;
    box.toggleAttribute('data-more-before', box.scrollLeft > 1);
    box.toggleAttribute('data-more-after', box.scrollLeft + box.clientWidth < box.scrollWidth - 1);
  };
}
