/** What a tab shows: the user's name for it, else what runs in it, else where it is. */
export interface TabLabelSource {
  name?: string | undefined;
  /** The command typed in the tab's terminal that is running. */
  command?: string | undefined;
  /** The title the shell or a program set (OSC 0/2). */
  title?: string | undefined;
  cwd?: string | undefined;
}

/** A tab label is cut to this many characters; the full text is in its tooltip. */
export const TAB_LABEL_CHARS = 40;

/**
 * The tab's label: its name, the running command, the title a program set, or the last part of its working directory
 * (`/workspace/app` → `app`, `/root` → `~`): bash sets no title, so without this every tab would read "bash".
 */
export function tabLabel(tab: TabLabelSource): string {
  const text = tab.name || tab.command || tab.title || (tab.cwd ? directoryName(tab.cwd) : '') || 'bash';
  return text.length > TAB_LABEL_CHARS ? `${text.slice(0, TAB_LABEL_CHARS - 1)}…` : text;
}

/** True when the label says something the working directory does not: then the cwd is shown beside it. */
export function labelNamesMoreThanCwd(tab: TabLabelSource): boolean {
  return Boolean(tab.name || tab.command || tab.title);
}

function directoryName(cwd: string): string {
  if (cwd === '/root' || cwd === '~') return '~';
  const parts = cwd.split('/').filter(Boolean);
  return parts.at(-1) ?? '/';
}
