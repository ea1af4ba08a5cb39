import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The relay's two native pieces, built by `npm install` from `server/native/` (node-gyp; see its README):
 * `fs_at`, the *at() system calls Node lacks (the files API walks workspaces by directory descriptor), and
 * `sandbox-enter`, the helper every sandbox process is started through (namespaces, unprivileged ids, capabilities,
 * seccomp). `src/sandbox/` and `dist/sandbox/` are both two levels below the package root.
 */
const BUILD_DIR = fileURLToPath(new URL('../../native/build/Release/', import.meta.url));

/** The host-side `stat` fields the files API needs (numbers, as `fstatat` returns them). */
export interface NativeStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
  nlink: number;
}

/** `server/native/src/fs-at.c`. Each call is synchronous and throws an Error with `code` (`ENOENT`, …). */
export interface FsAt {
  openat(dirfd: number, name: string, flags: number, mode: number): number;
  mkdirat(dirfd: number, name: string, mode: number): void;
  unlinkat(dirfd: number, name: string, flags: number): void;
  renameat2(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): void;
  readlinkat(dirfd: number, name: string): string;
  fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): void;
  fstatat(dirfd: number, name: string, flags: number): NativeStat;
  /** At most `max` names of the directory open as `fd`, without `.` and `..`. */
  readdir(fd: number, max: number): string[];
  /** A close-on-exec, non-blocking duplicate of `fd` (the same open file): a descriptor only its caller closes. */
  dupNonblocking(fd: number): number;
  /** TIOCSWINSZ on a PTY master descriptor (the relay's own copy): throws RangeError outside 1–65535. */
  setWindowSize(fd: number, cols: number, rows: number): void;
  /** Zeroes every copy of `secret` in this process's original argv and environment (what /proc/<pid>/cmdline and environ show). */
  scrubMemory(secret: string): number;
  readonly O_PATH: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
  readonly O_NONBLOCK: number;
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly AT_SYMLINK_NOFOLLOW: number;
  readonly AT_REMOVEDIR: number;
  readonly RENAME_NOREPLACE: number;
}

const REBUILD_HINT = 'run `npm rebuild @sandbox-terminal/server` (it needs a C compiler and Node headers, as node-pty does)';

let fsAt: FsAt | undefined;

/** The fs_at addon; throws with what to do when it was not built. */
export function nativeFs(): FsAt {
  if (fsAt) return fsAt;
  const path = `${BUILD_DIR}fs_at.node`;
  if (!existsSync(path)) throw new Error(`the relay's native file-system addon is missing (${path}): ${REBUILD_HINT}`);
  fsAt = createRequire(import.meta.url)(path) as FsAt;
  return fsAt;
}

/** Path of the `sandbox-enter` helper, or why it is not there (it needs libseccomp's headers at build time). */
export function sandboxEnterPath(): { ok: true; path: string } | { ok: false; reason: string } {
  const path = `${BUILD_DIR}sandbox-enter`;
  if (existsSync(path)) return { ok: true, path };
  return { ok: false, reason: `the sandbox helper ${path} was not built (install libseccomp-dev, then ${REBUILD_HINT})` };
}
