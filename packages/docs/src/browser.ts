/** True in a page (a window with a document and a custom element registry), false in Node, Deno or a worker. */
export function inBrowser(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined' && typeof customElements !== 'undefined';
}
