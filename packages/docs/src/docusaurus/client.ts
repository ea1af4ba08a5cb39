// Docusaurus client module (added by the plugin): runs in the browser after every route has rendered, hydration
// included, so React never meets the controls while it hydrates. Imported during the server render too: does nothing there.
import { enhanceRunnableBlocks } from '../enhance.ts';

export function onRouteDidUpdate(): void {
  enhanceRunnableBlocks();
}
