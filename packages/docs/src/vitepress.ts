import type { DocsConfig } from './config.ts';
import { enhanceRunnableBlocks } from './enhance.ts';

export { runnableBlocks } from './markdown-it.ts';

// The VitePress shapes used here (its theme object and enhanceApp context), so the package does not depend on VitePress.
interface VueAppLike {
  mixin(mixin: { mounted(this: { $parent: unknown }): void }): unknown;
}
interface EnhanceAppContext {
  app: VueAppLike;
  siteData: { value: { themeConfig?: { sandboxTerminal?: Partial<DocsConfig> } } };
}
interface ThemeLike {
  enhanceApp?: (context: EnhanceAppContext) => unknown;
  [key: string]: unknown;
}

/**
 * A VitePress theme with runnable blocks: `export default withRunnableBlocks(DefaultTheme)` in
 * `.vitepress/theme/index.js`, with the markdown-it plugin (`runnableBlocks`) in the config's `markdown.config` and
 * the options in `themeConfig.sandboxTerminal` (or given here). Blocks are enhanced once the app is mounted (after
 * hydration, so Vue never sees the controls as a mismatch) and found again after every client-side navigation.
 */
export function withRunnableBlocks<T extends ThemeLike>(theme: T, options: Partial<DocsConfig> = {}): T {
  return {
    ...theme,
    enhanceApp(context: EnhanceAppContext) {
      const result = theme.enhanceApp?.(context);
      if (typeof window === 'undefined') return result;
      const config = { ...context.siteData.value.themeConfig?.sandboxTerminal, ...options };
      let started = false;
      context.app.mixin({
        mounted() {
          // The root component mounts last, once the whole page is hydrated.
          if (started || this.$parent) return;
          started = true;
          enhanceRunnableBlocks(config);
        },
      });
      return result;
    },
  };
}
