import { html, nothing, render, type TemplateResult } from 'lit';
import manifest from '@sandbox-terminal/elements/custom-elements.json' with { type: 'json' };

/** The subset of the custom-elements manifest schema these tables read. */
interface Described {
  name: string;
  description?: string;
  summary?: string;
}
interface Attribute extends Described {
  type?: { text: string };
  default?: string;
  fieldName?: string;
}
interface Member extends Described {
  kind: 'field' | 'method';
  privacy?: string;
  static?: boolean;
  readonly?: boolean;
  type?: { text: string };
  parameters?: Array<{ name: string; type?: { text: string } }>;
  return?: { type?: { text: string } };
}
interface ElementDeclaration extends Described {
  customElement?: boolean;
  tagName?: string;
  attributes?: Attribute[];
  members?: Member[];
  events?: Array<Described & { type?: { text: string } }>;
  slots?: Described[];
  cssParts?: Described[];
  cssProperties?: Described[];
}
interface Manifest {
  modules: Array<{ declarations?: ElementDeclaration[] }>;
}

/** Attribute, property, method, event, slot, part and custom-property tables for every element in the manifest. */
export function renderElementDocs(container: HTMLElement): void {
  const elements = (manifest as Manifest).modules.flatMap((module) => module.declarations ?? []).filter((declaration) => declaration.customElement);
  render(html`${elements.map(renderElement)}`, container);
}

function renderElement(element: ElementDeclaration): TemplateResult {
  const attributeFields = new Set((element.attributes ?? []).map((attribute) => attribute.fieldName));
  const publicMembers = (element.members ?? []).filter((member) => member.privacy !== 'private' && member.privacy !== 'protected' && !member.static);
  const properties = publicMembers.filter((member) => member.kind === 'field' && !attributeFields.has(member.name));
  const methods = publicMembers.filter((member) => member.kind === 'method');
  return html`<article class="element-doc">
    <h3><code>&lt;${element.tagName}&gt;</code></h3>
    ${element.summary ? html`<p class="summary">${element.summary}</p>` : nothing}
    ${element.description ? html`<p>${element.description}</p>` : nothing}
    ${table('Attributes', ['attribute', 'property', 'type', 'default', ''], element.attributes, (attribute) => [
      html`<code>${attribute.name}</code>`,
      html`<code>${attribute.fieldName ?? ''}</code>`,
      html`<code>${attribute.type?.text ?? ''}</code>`,
      html`<code>${attribute.default ?? ''}</code>`,
      attribute.description ?? '',
    ])}
    ${table('Read-only properties', ['property', 'type', ''], properties, (member) => [
      html`<code>${member.name}</code>`,
      html`<code>${member.type?.text ?? ''}</code>`,
      member.description ?? '',
    ])}
    ${table('Methods', ['method', ''], methods, (member) => [
      html`<code>${member.name}(${(member.parameters ?? []).map((parameter) => parameter.name).join(', ')})</code>`,
      member.description ?? '',
    ])}
    ${table('Events', ['event', ''], element.events, (event) => [html`<code>${event.name}</code>`, event.description ?? ''])}
    ${table('Slots', ['slot', ''], element.slots, (slot) => [html`<code>${slot.name || '(default)'}</code>`, slot.description ?? ''])}
    ${table('CSS parts', ['part', ''], element.cssParts, (part) => [html`<code>::part(${part.name})</code>`, part.description ?? ''])}
    ${table('CSS custom properties', ['property', ''], element.cssProperties, (property) => [
      html`<code>${property.name}</code>`,
      property.description ?? '',
    ])}
  </article>`;
}

function table<T>(title: string, headings: string[], rows: T[] | undefined, cells: (row: T) => Array<string | TemplateResult>) {
  if (!rows?.length) return nothing;
  return html`<h4>${title}</h4>
    <div class="table-scroll">
      <table>
        <thead>
          <tr>
            ${headings.map((heading) => html`<th scope="col">${heading}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map((row) => html`<tr>${cells(row).map((cell) => html`<td>${cell}</td>`)}</tr>`)}
        </tbody>
      </table>
    </div>`;
}
