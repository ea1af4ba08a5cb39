import { closeSync, openSync } from 'node:fs';
import { posix } from 'node:path';
import { RelayError } from '../errors.ts';
import { nativeFs, type FsAt, type NativeStat } from './native.ts';

/** The sandbox path every file call must stay under. */
export const WORKSPACE_ROOT = '/workspace';
/** Symlinks followed while resolving one path before it is refused (as the kernel's ELOOP limit). */
const MAX_SYMLINK_HOPS = 40;
const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export function fileType(stat: NativeStat): 'file' | 'directory' | 'symlink' | 'other' {
  const type = stat.mode & S_IFMT;
  return type === S_IFREG ? 'file' : type === S_IFDIR ? 'directory' : type === S_IFLNK ? 'symlink' : 'other';
}

/** Where a sandbox path ends up: the directory that holds its last component (open here), and that name. */
export interface WalkedPath {
  /** An O_PATH descriptor of the directory holding `name`; valid until the walk is closed. */
  parentFd: number;
  /** The last component, or '' for /workspace itself (then `parentFd` is the workspace). */
  name: string;
  /** The sandbox path the walk ended at, after symlinks (what error messages name). */
  sandboxPath: string;
  /** `lstat` of the last component, or undefined when it does not exist. */
  stat: NativeStat | undefined;
}

export interface WalkOptions {
  /** Follow a symlink in the last component (reads, writes) or stop at it (delete). Default true. */
  followLast?: boolean;
  /** Create missing directories on the way (writes, `mkdir -p`), owned by `owner`. */
  createParents?: { uid: number; gid: number } | undefined;
}

/**
 * One resolution of a sandbox path inside a workspace, descriptor by descriptor: each component is looked up with
 * `fstatat`/`openat` relative to the directory descriptor before it, never following a symlink the kernel would
 * follow. A symlink is read and resolved the way the sandbox sees it (absolute targets are sandbox paths, `..` goes
 * back up the descriptors walked), and must stay inside /workspace. A directory swapped for a symlink in the middle of
 * the walk makes `openat(O_NOFOLLOW)` fail and the component is looked at again, so no race reaches a host file.
 * Holds descriptors until `close()`.
 */
export class WorkspaceWalk {
  readonly #fs: FsAt;
  readonly #opened: number[] = [];
  #closed = false;

  constructor(
    /** Host directory that is the sandbox's /workspace (relay-made; its parents are the relay's). */
    private readonly hostRoot: string,
    /** The path as the client gave it, for error messages. */
    private readonly requested: string,
  ) {
    this.#fs = nativeFs();
  }

  /** Resolves a normalised sandbox path (see `checkSandboxPath`). */
  resolve(sandboxPath: string, options: WalkOptions = {}): WalkedPath {
    const fs = this.#fs;
    const followLast = options.followLast ?? true;
    const root = this.#open(() => openSync(this.hostRoot, fs.O_PATH | fs.O_DIRECTORY | fs.O_NOFOLLOW));
    // Each entry: a directory descriptor and the name it was reached by (empty for /workspace).
    let stack: { fd: number; name: string }[] = [{ fd: root, name: '' }];
    let pending = components(sandboxPath);
    let hops = 0;
    const here = () => sandboxPathOf(stack.map((entry) => entry.name));
    if (pending.length === 0) return { parentFd: root, name: '', sandboxPath: WORKSPACE_ROOT, stat: fs.fstatat(root, '.', 0) };
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (stack.length === 1) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${this.requested} leads out of ${WORKSPACE_ROOT} through a symlink`);
        stack.pop();
        continue;
      }
      const top = stack[stack.length - 1]!;
      const last = pending.length === 0;
      const stat = this.#lstat(top.fd, name);
      if (!stat) {
        if (last) return { parentFd: top.fd, name, sandboxPath: posix.join(here(), name), stat: undefined };
        if (!options.createParents) throw new RelayError('FILE_NOT_FOUND', `no such file or directory: ${this.requested}`);
        this.#mkdir(top.fd, name, options.createParents);
        pending.unshift(name);
        continue;
      }
      const type = fileType(stat);
      if (type === 'symlink' && (followLast || !last)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${this.requested}: too many levels of symbolic links`);
        const target = this.#call(() => fs.readlinkat(top.fd, name));
        if (target.startsWith('/')) {
          const normalized = posix.normalize(target);
          if (!isInsideWorkspace(normalized)) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${this.requested} leads out of ${WORKSPACE_ROOT} through a symlink`);
          stack = [stack[0]!];
          pending = [...components(normalized), ...pending];
        } else {
          pending = [...target.split('/'), ...pending];
        }
        continue;
      }
      if (last) return { parentFd: top.fd, name, sandboxPath: posix.join(here(), name), stat };
      if (type !== 'directory') throw new RelayError('NOT_A_FILE', `${this.requested}: a parent is not a directory`);
      const fd = this.#tryOpen(() => fs.openat(top.fd, name, fs.O_PATH | fs.O_DIRECTORY | fs.O_NOFOLLOW, 0));
      if (fd === undefined) {
        // Replaced between the lstat and the open (by a symlink, most likely): look again.
        if (++hops > MAX_SYMLINK_HOPS) throw new RelayError('PATH_OUTSIDE_WORKSPACE', `${this.requested} kept changing while it was resolved`);
        pending.unshift(name);
        continue;
      }
      stack.push({ fd, name });
    }
    // Only `.`/`..` were left: the path names a directory already on the stack.
    const top = stack[stack.length - 1]!;
    if (stack.length === 1) return { parentFd: top.fd, name: '', sandboxPath: WORKSPACE_ROOT, stat: fs.fstatat(top.fd, '.', 0) };
    const parent = stack[stack.length - 2]!;
    return { parentFd: parent.fd, name: top.name, sandboxPath: here(), stat: this.#lstat(parent.fd, top.name) };
  }

  /**
   * Opens `name` in a walked directory; a typed error for the usual errnos, or undefined for ELOOP/ENOTDIR (it was
   * swapped meanwhile). The descriptor is the caller's to close: it outlives the walk.
   */
  openIn(parentFd: number, name: string, flags: number, mode = 0): number | undefined {
    return this.#tryOpen(() => this.#fs.openat(parentFd, name, flags, mode), false);
  }

  /** Runs a native call, turning its errno into the files API's typed errors (sandbox paths only). */
  call<T>(action: () => T): T {
    return this.#call(action);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of this.#opened) closeSync(fd);
  }

  #open(action: () => number): number {
    const fd = this.#call(action);
    this.#opened.push(fd);
    return fd;
  }

  #tryOpen(action: () => number, tracked = true): number | undefined {
    try {
      return tracked ? this.#open(action) : this.#call(action);
    } catch (error) {
      if (error instanceof RelayError && (error.details?.errno === 'ELOOP' || error.details?.errno === 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  #lstat(dirfd: number, name: string): NativeStat | undefined {
    try {
      return this.#fs.fstatat(dirfd, name, this.#fs.AT_SYMLINK_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileError(this.requested, error);
    }
  }

  #mkdir(dirfd: number, name: string, owner: { uid: number; gid: number }): void {
    try {
      this.#fs.mkdirat(dirfd, name, 0o755);
    } catch (error) {
      // Made by someone else in the meantime: the next look decides what it is.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw fileError(this.requested, error);
    }
    chownQuietly(this.#fs, dirfd, name, owner);
  }

  #call<T>(action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw fileError(this.requested, error);
    }
  }
}

/** Gives a new entry the sandbox's owner; a symlink swapped in meanwhile gets it instead of its target. */
export function chownQuietly(fs: FsAt, dirfd: number, name: string, owner: { uid: number; gid: number }): void {
  if (owner.uid < 0) return;
  try {
    fs.fchownat(dirfd, name, owner.uid, owner.gid, fs.AT_SYMLINK_NOFOLLOW);
  } catch {
    // gone again: nothing to own
  }
}

function components(sandboxPath: string): string[] {
  return sandboxPath === WORKSPACE_ROOT ? [] : sandboxPath.slice(WORKSPACE_ROOT.length + 1).split('/');
}

function sandboxPathOf(names: string[]): string {
  return posix.join(WORKSPACE_ROOT, ...names);
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

/**
 * The typed error for a failed file-system call. The message names the sandbox path the client asked for and the
 * errno, never a host path (Node's own messages carry the host path; the native ones are built here).
 */
export function fileError(path: string, error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  const details = { errno: code };
  switch (code) {
    case 'ENOENT':
      return new RelayError('FILE_NOT_FOUND', `no such file or directory: ${path}`, details);
    case 'EISDIR':
      return new RelayError('NOT_A_FILE', `${path} is a directory`, details);
    case 'ENXIO':
    case 'ENODEV':
    case 'EOPNOTSUPP':
      return new RelayError('NOT_A_FILE', `${path} is not a regular file`, details);
    case 'ENOTDIR':
      return new RelayError('NOT_A_FILE', `${path}: a parent is not a directory`, details);
    case 'ELOOP':
      return new RelayError('PATH_OUTSIDE_WORKSPACE', `${path}: too many levels of symbolic links`, details);
    case 'EEXIST':
      return new RelayError('FILE_ERROR', `${path} already exists`, details);
    case 'ENOTEMPTY':
      return new RelayError('FILE_ERROR', `${path} is not empty`, details);
    case 'ENAMETOOLONG':
      return new RelayError('BAD_REQUEST', `${path}: a name is too long`, details);
    case 'ENOSPC':
    case 'EDQUOT':
      return new RelayError('NO_SPACE', `no space left for ${path}`, details);
    case 'EACCES':
    case 'EPERM':
      return new RelayError('FILE_ERROR', `${path}: permission denied`, details);
    default:
      return new RelayError('FILE_ERROR', `${path}: ${code}`, details);
  }
}
