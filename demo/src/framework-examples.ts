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
  const draw = () => {
    render(
      html`<div class="framework-tabs" role="tablist" aria-label="Framework">
          ${sections.map(
            (section, index) =>
              html`<button type="button" role="tab" aria-selected=${index === active ? 'true' : 'false'} @click=${() => ((active = index), draw())}>
                ${section.name}
              </button>`,
          )}
        </div>
        <div class="framework-blocks" role="tabpanel"></div>`,
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
