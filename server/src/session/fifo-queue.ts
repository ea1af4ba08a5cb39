/** The dropped head slots are given back once there are this many and they are more than half of the array. */
const COMPACT_AFTER = 1024;

/**
 * A first-in first-out list with O(1) `shift`. The output log and the screen mirror hold a flood's PTY reads (~4 KiB
 * each, a thousand per 4 MiB) and drop them from the front one at a time; `Array.prototype.shift` moves every element
 * that is left, which showed in the relay's profile under a flood.
 */
export class FifoQueue<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The item `index` places from the front (0: the oldest), or undefined. */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#items[this.#head + index];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Replaces the oldest item (what is left of it after part was taken). */
  replaceFirst(item: T): void {
    if (this.#head < this.#items.length) this.#items[this.#head] = item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** The items from the front while `keep` holds, oldest first. */
  leading<U extends T>(keep: (item: T) => item is U): U[] {
    const out: U[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (!keep(item)) break;
      out.push(item);
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
