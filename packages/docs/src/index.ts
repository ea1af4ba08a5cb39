// The docs enhancement: runnable code blocks sharing one session per site, a docked terminal, setup, checks, reset and
// guest sandboxes. Importing this module does nothing by itself and never touches the DOM, so generators may import it
// during their server-side render; `enhanceRunnableBlocks()` does the work in the browser.
export { enhanceRunnableBlocks, runnableBlocksPage } from './enhance.ts';
export { defineDocsElements } from './define.ts';
export { RunnableBlocksPage, INLINE_OUTPUT_MAX_CHARS } from './docs-page.ts';
export { DocsSession, SETUP_MARKER_DIR, type SessionTarget, type SetupProgress } from './docs-session.ts';
export { SandboxRunControls, type BlockView, type CheckView, type BlockAction } from './block-controls.ts';
export { SandboxDocsDock, MIN_DOCK_HEIGHT_PX, DEFAULT_DOCK_HEIGHT_PX } from './docs-dock.ts';
export { RunQueue, QueuedRun, type RunState } from './run-queue.ts';
export { readBlock, textHash, RUNNABLE_SELECTOR, type BlockSpec, type BlockKind } from './block-spec.ts';
export { parseFenceMeta, RUNNABLE_META_KEYS, type FenceMeta } from './fence-meta.ts';
export { readPageConfig, setupSteps, CONFIG_ATTRIBUTE, type DocsConfig, type DocsScriptOptions, type RunnableBlocksOptions, type SetupConfig, type SetupStep } from './config.ts';
export type * from './events.ts';
