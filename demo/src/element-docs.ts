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
    ${element.summary ? html`<p class="summary">${prose(element.summary)}</p>` : nothing}
    ${element.description ? element.description.split(/\n\s*\n/).map((paragraph) => html`<p>${prose(paragraph)}</p>`) : nothing}
    ${table('Attributes', ['attribute', 'property', 'type', 'default', 'description'], element.attributes, (attribute) => [
      html`<code>${attribute.name}</code>`,
      html`<code>${attribute.fieldName ?? ''}</code>`,
      html`<code>${attribute.type?.text ?? ''}</code>`,
      attribute.default ? html`<code>${attribute.default}</code>` : '',
      prose(attribute.description),
    ])}
    ${table('Properties without an attribute', ['property', 'type', 'access', 'description'], properties, (member) => [
      html`<code>${member.name}</code>`,
      html`<code>${member.type?.text ?? ''}</code>`,
      member.readonly ? 'read-only' : 'read and write',
      prose(member.description),
    ])}
    ${table('Methods', ['method', 'description'], methods, (member) => [
      html`<code>${member.name}(${(member.parameters ?? []).map((parameter) => parameter.name).join(', ')})</code>`,
      prose(member.description),
    ])}
    ${table('Events', ['event', 'description'], element.events, (event) => [html`<code>${event.name}</code>`, prose(event.description)])}
    ${table('Slots', ['slot', 'description'], element.slots, (slot) => [html`<code>${slot.name || '(default)'}</code>`, prose(slot.description)])}
    ${table('CSS parts', ['part', 'description'], element.cssParts, (part) => [html`<code>::part(${part.name})</code>`, prose(part.description)])}
    ${table('CSS custom properties', ['property', 'description'], element.cssProperties, (property) => [
      html`<code>${property.name}</code>`,
      prose(property.description),
    ])}
  </article>`;
}

/** The manifest's descriptions are Markdown from JSDoc: `code` spans become <code>, the rest stays text. */
function prose(text: string | undefined): TemplateResult {
  const parts = (text ?? '').split(/`([^`]+)`/);
  return html`${parts.map((part, index) => (index % 2 === 1 ? html`<code>${part}</code>` : part))}`;
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
          ${rows.map((row) => html`<tr>${cells(row).map((cell, index) => html`<td data-label=${headings[index] ?? ''}>${cell}</td>`)}</tr>`)}
        </tbody>
      </table>
    </div>`;
}
