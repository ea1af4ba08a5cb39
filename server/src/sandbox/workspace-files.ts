import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { FileEntry } from '@sandbox-terminal/protocol';
import { RelayError, limitExceeded } from '../errors.ts';

/** The sandbox path every file call must stay under. */
export const WORKSPACE_ROOT = '/workspace';
/** Symlinks followed while resolving one path before it is refused (as the kernel's ELOOP limit). */
const MAX_SYMLINK_HOPS = 40;

/**
 * File access to one sandbox's /workspace from the relay side. Paths are sandbox paths; symlinks are resolved
 * the way a process inside the sandbox would see them (an absolute target means a sandbox path), and every step
 * must stay under /workspace, so no link can lead the relay to a host file.
 */
export class WorkspaceFiles {
  constructor(
    /** Host directory that is the sandbox's /workspace. */
    private readonly hostRoot: string,
    private readonly maxFileBytes: number,
  ) {}

  async write(path: string, content: Uint8Array): Promise<void> {
    if (content.byteLength > this.maxFileBytes) {
      throw limitExceeded('fileBytes', this.maxFileBytes, `file is ${content.byteLength} bytes; the limit is ${this.maxFileBytes}`);
    }
    const target = await this.resolve(path);
    if (target.sandboxPath === WORKSPACE_ROOT) throw new RelayError('NOT_A_FILE', `${path} is a directory`);
    await mkdir(posix.dirname(target.hostPath), { recursive: true });
    const existing = await lstatOrNull(target.hostPath);
    if (existing?.isDirectory()) throw new RelayError('NOT_A_FILE', `${path} is a directory`);
    // O_NOFOLLOW: a symlink swapped in after resolution is refused rather than followed out of the workspace.
    const handle = await open(target.hostPath, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644).catch(fileError(path));
    try {
      await writeFile(handle, content);
    } finally {
      await handle.close();
    }
  }

  async read(path: string): Promise<Uint8Array> {
    const target = await this.resolve(path);
    const info = await stat(target.hostPath).catch(fileError(path));
    if (!info.isFile()) throw new RelayError('NOT_A_FILE', `${path} is not a regular file`);
    if (info.size > this.maxFileBytes) {
      throw limitExceeded('fileBytes', this.maxFileBytes, `file is ${info.size} bytes; the limit is ${this.maxFileBytes}`);
    }
    const handle = await open(target.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW).catch(fileError(path));
    try {
      return new Uint8Array(await handle.readFile());
    } finally {
      await handle.close();
    }
  }

  async mkdir(path: string, recursive: boolean): Promise<void> {
    const target = await this.resolve(path);
    await mkdir(target.hostPath, { recursive }).catch(fileError(path));
  }

  /** Deletes a file or symlink, or a directory when `recursive`. */
  async delete(path: string, recursive = false): Promise<void> {
    const target = await this.resolve(path, { followLast: false });
    if (target.sandboxPath === WORKSPACE_ROOT) throw new RelayError('PATH_OUTSIDE_WORKSPACE', 'refusing to delete /workspace itself');
    const info = await lstat(target.hostPath).catch(fileError(path));
    if (info.isDirectory()) {
      if (!recursive) throw new RelayError('NOT_A_FILE', `${path} is a directory`);
      await rm(target.hostPath, { recursive: true }).catch(fileError(path));
      return;
    }
    await unlink(target.hostPath).catch(fileError(path));
  }

  async exists(path: string): Promise<boolean> {
    try {
      const target = await this.resolve(path);
      return (await lstatOrNull(target.hostPath)) !== null;
    } catch (error) {
      if (error instanceof RelayError && error.code === 'FILE_NOT_FOUND') return false;
      throw error;
    }
  }

  async list(path: string): Promise<FileEntry[]> {
    const target = await this.resolve(path);
    const info = await stat(target.hostPath).catch(fileError(path));
    if (!info.isDirectory()) throw new RelayError('NOT_A_FILE', `${path} is not a directory`);
    const names = await readdir(target.hostPath);
    const entries: FileEntry[] = [];
    for (const name of names.sort()) {
      const entryInfo = await lstatOrNull(posix.join(target.hostPath, name));
      if (!entryInfo) continue;
      entries.push({
        name,
        path: posix.join(target.sandboxPath, name),
        type: entryInfo.isFile() ? 'file' : entryInfo.isDirectory() ? 'directory' : entryInfo.isSymbolicLink() ? 'symlink' : 'other',
        size: entryInfo.size,
        modifiedAt: entryInfo.mtime.toISOString(),
      });
    }
    return entries;
  }

  /**
   * Resolves a sandbox path to a host path, following symlinks inside the sandbox's view. Components that do not
   * exist yet are allowed (for writes); every existing step must be inside /workspace.
   */
  async resolve(path: string, options: { followLast?: boolean } = {}): Promise<{ sandboxPath: string; hostPath: string }> {
    const followLast = options.followLast ?? true;
    const start = checkSandboxPath(path);
    let pending = start === WORKSPACE_ROOT ? [] : start.slice(WORKSPACE_ROOT.length + 1).split('/');
    let resolved = WORKSPACE_ROOT;
    let hops = 0;
    while (pending.length) {
      const name = pending.shift()!;
      const candidate = posix.join(resolved, name);
      const info = await lstatOrNull(this.toHost(candidate));
      if (!info?.isSymbolicLink() || (!followLast && pending.length === 0)) {
        resolved = candidate;
        continue;
      }
      if (++hops > MAX_SYMLINK_HOPS) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${path}: too many symlinks`);
      const link = await readlink(this.toHost(candidate));
      const next = posix.normalize(link.startsWith('/') ? link : posix.join(resolved, link));
      if (!isInsideWorkspace(next)) {
        throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${path} leads out of ${WORKSPACE_ROOT} through a symlink`);
      }
      pending = [...(next === WORKSPACE_ROOT ? [] : next.slice(WORKSPACE_ROOT.length + 1).split('/')), ...pending];
      resolved = WORKSPACE_ROOT;
    }
    return { sandboxPath: resolved, hostPath: this.toHost(resolved) };
  }

  private toHost(sandboxPath: string): string {
    return this.hostRoot + sandboxPath.slice(WORKSPACE_ROOT.length);
  }
}

export function isInsideWorkspace(path: string): boolean {
  return path === WORKSPACE_ROOT || path.startsWith(`${WORKSPACE_ROOT}/`);
}

/** Validates a sandbox path from a client and returns it normalised; throws PATH_OUTSIDE_WORKSPACE. */
export function checkSandboxPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new RelayError('BAD_REQUEST', 'path must be a non-empty string');
  if (path.includes('\0')) throw new RelayError('PATH_OUTSIDE_WORKSPACE', 'path contains a NUL byte');
  if (!path.startsWith('/')) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `path must be absolute (under ${WORKSPACE_ROOT}): ${path}`);
  const normalized = posix.normalize(path).replace(/\/+$/, '') || '/';
  if (!isInsideWorkspace(normalized)) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `path is outside ${WORKSPACE_ROOT}: ${path}`);
  return normalized;
}

async function lstatOrNull(hostPath: string) {
  try {
    return await lstat(hostPath);
  } catch {
    return null;
  }
}

function fileError(path: string) {
  return (error: NodeJS.ErrnoException): never => {
    if (error.code === 'ENOENT') throw new RelayError('FILE_NOT_FOUND', `no such file or directory: ${path}`);
    if (error.code === 'EISDIR' || error.code === 'ENOTDIR') throw new RelayError('NOT_A_FILE', `${path}: ${error.code === 'EISDIR' ? 'is a directory' : 'a parent is not a directory'}`);
    if (error.code === 'ELOOP') throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${path} is a symlink`);
    if (error.code === 'EEXIST') throw new RelayError('FILE_ERROR', `${path} already exists`);
    if (error.code === 'ENOTEMPTY') throw new RelayError('FILE_ERROR', `${path} is not empty`);
    throw new RelayError('FILE_ERROR', `${path}: ${error.message}`);
  };
}
