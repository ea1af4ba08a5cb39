import type { SandboxPaths } from './backend.ts';

/**
 * The API names workspace paths `/workspace/…`; a backend's shells may see the workspace elsewhere (the unisolated
 * backend runs on the host, in the workspace's host directory). These two map between the views.
 */
export function toShellPath(paths: SandboxPaths, path: string): string {
  return paths.workspace === '/workspace' ? path : path.replace(/^\/workspace(?=\/|$)/, paths.workspace);
}

export function fromShellPath(paths: SandboxPaths, path: string): string {
  const workspace = paths.workspace;
  if (workspace === '/workspace' || !(path === workspace || path.startsWith(`${workspace}/`))) return path;
  return `/workspace${path.slice(workspace.length)}`;
}
