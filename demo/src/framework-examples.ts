import { html, render } from 'lit';
import frameworksDoc from '../../docs/frameworks.md?raw';
import { renderSnippet } from './snippet.ts';

/** The sections of docs/frameworks.md shown on the page, in this order. */
const FRAMEWORKS = ['Plain HTML', 'React', 'Vue 3', 'Svelte 5'];

/**
 * The framework snippets, taken from docs/frameworks.md at build time so the page and the docs cannot drift apart:
 * one tab per framework, each showing that section's code blocks.
 */
export function renderFrameworkExamples(container: HTMLElement): void {
  const sections = FRAMEWORKS.map((name) => ({ name, blocks: codeBlocks(sectionOf(frameworksDoc, name)) })).filter((section) => section.blocks.length);
  let active = 0;
  const select = (index: number, focus: boolean) => {
    active = (index + sections.length) % sections.length;
    draw();
    if (focus) container.querySelector<HTMLElement>(`#framework-tab-${active}`)?.focus();
  };
  // Tabs as the ARIA pattern has them: one tab stop, arrows (and Home/End) move between tabs and show each.
  const onKeydown = (event: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowRight: active + 1, ArrowLeft: active - 1, Home: 0, End: sections.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    select(target, true);
  };
  const draw = () => {
    render(
      html`<div class="framework-tabs" role="tablist" aria-label="Framework" @keydown=${onKeydown}>
          ${sections.map(
            (section, index) =>
              html`<button
                type="button"
                role="tab"
                id=${`framework-tab-${index}`}
                aria-controls="framework-panel"
                aria-selected=${index === active ? 'true' : 'false'}
                tabindex=${index === active ? 0 : -1}
                @click=${() => select(index, false)}
              >
                ${section.name}
              </button>`,
          )}
        </div>
        <div class="framework-blocks" role="tabpanel" id="framework-panel" aria-labelledby=${`framework-tab-${active}`}></div>`,
      container,
    );
    const panel = container.querySelector<HTMLElement>('.framework-blocks')!;
    panel.replaceChildren(...sections[active]!.blocks.map(() => document.createElement('div')));
    sections[active]!.blocks.forEach((code, index) => renderSnippet(panel.children[index] as HTMLElement, code));
  };
  draw();
}

function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) return '';
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next === -1 ? undefined : next);
}

function codeBlocks(section: string): string[] {
  return [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((match) => match[1]!.trimEnd());
}
