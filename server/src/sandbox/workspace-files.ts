import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fchmodSync, fchownSync, fstatSync, write as writeCallback } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { FileEntry } from '@sandbox-terminal/protocol';
import { RelayError, limitExceeded } from '../errors.ts';
import { nativeFs } from './native.ts';
import { insideRange, type SandboxIds } from './sandbox-ids.ts';
import { WORKSPACE_ROOT, WorkspaceWalk, checkSandboxPath, chownQuietly, fileError, fileType } from './workspace-walk.ts';

export { WORKSPACE_ROOT, checkSandboxPath, isInsideWorkspace } from './workspace-walk.ts';

const writeFd = promisify(writeCallback);
/** How many directory entries a recursive delete or a listing handles before it lets the event loop run. */
const ENTRIES_PER_TURN = 256;
/** Deeper trees are refused by a recursive delete (each level holds a descriptor while its children go). */
const MAX_DELETE_DEPTH = 1_024;
/** A recursive delete gives up after removing this many entries (a sandbox could refill the tree as it goes). */
const MAX_DELETE_ENTRIES = 10_000_000;
/** Mode of a file the API creates, and the most a rewritten file keeps (no set-uid, set-gid or sticky bit). */
const NEW_FILE_MODE = 0o644;
const KEPT_MODE_BITS = 0o777;

/** A file opened for reading: its size when opened and a stream of exactly that many bytes. */
export interface OpenedFile {
  size: number;
  stream: Readable;
}

/**
 * File access to one sandbox's /workspace from the relay, which runs as host root: every path is resolved by
 * `WorkspaceWalk` one directory descriptor at a time, so no symlink or rename race can lead outside (issue: a swapped
 * directory used to make reads return host files). Only regular files are read or replaced: FIFOs, sockets and
 * devices are refused after an `fstat` of the descriptor opened non-blocking, so nothing a sandbox holds open can
 * block a thread. Writes go to a temporary file in the same directory, renamed into place when complete, owned by the
 * sandbox's root and without set-id bits: a reader sees the old file or the new one, never a part.
 */
export class WorkspaceFiles {
  readonly #fs = nativeFs();
  /** The host ids files written here get: the sandbox's root, or the relay's own user without isolation. */
  readonly #owner: { uid: number; gid: number };

  constructor(
    /** Host directory that is the sandbox's /workspace. */
    private readonly hostRoot: string,
    private readonly maxFileBytes: number,
    /** `listEntries`: a listing reads at most this many names (plus one, to know there are more). */
    private readonly maxListEntries: number,
    /** The sandboxes' id range; undefined when they run as the relay's own user. */
    private readonly ids?: SandboxIds,
    /** Settles once the workspace directory exists with its owner; every call waits for it. */
    private readonly ready: Promise<void> = Promise.resolve(),
  ) {
    this.#owner = ids ? { uid: ids.uid, gid: ids.gid } : { uid: -1, gid: -1 };
  }

  /** Writes a whole file from memory (templates, small files); `mode` (permission bits only) for a new file. */
  async write(path: string, content: Uint8Array, options: { mode?: number } = {}): Promise<void> {
    if (content.byteLength > this.maxFileBytes) {
      throw limitExceeded('fileBytes', this.maxFileBytes, `file is ${content.byteLength} bytes; the limit is ${this.maxFileBytes}`);
    }
    await this.writeFrom(path, async (fd) => {
      let offset = 0;
      while (offset < content.byteLength) offset += (await writeFd(fd, content, offset, content.byteLength - offset)).bytesWritten;
    }, options.mode);
  }

  /** Streams `source` into the file, refusing (LIMIT_EXCEEDED, nothing changed) once it passes `fileBytes`. */
  async writeStream(path: string, source: Readable): Promise<number> {
    let written = 0;
    await this.writeFrom(path, async (fd) => {
      // Not destroyed on an early end: the route drains what the client still sends and answers with the error.
      for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        written += chunk.length;
        if (written > this.maxFileBytes) throw limitExceeded('fileBytes', this.maxFileBytes, `file is over the ${this.maxFileBytes}-byte limit`);
        let offset = 0;
        while (offset < chunk.length) offset += (await writeFd(fd, chunk, offset, chunk.length - offset)).bytesWritten;
      }
    });
    return written;
  }

  /**
   * The atomic write: a temporary file beside the target, filled by `fill`, then renamed over it. The file keeps a
   * replaced file's mode, else gets `mode` or 0644, never with set-uid, set-gid or sticky bits.
   */
  async writeFrom(path: string, fill: (fd: number) => Promise<void>, mode?: number): Promise<void> {
    await this.#ready();
    const walk = new WorkspaceWalk(this.hostRoot, path);
    let temporary: { fd: number; name: string; parentFd: number } | undefined;
    try {
      const target = walk.resolve(checkSandboxPath(path), { createParents: this.#owner });
      if (target.name === '') throw new RelayError('NOT_A_FILE', `${path} is a directory`);
      if (target.stat && fileType(target.stat) === 'directory') throw new RelayError('NOT_A_FILE', `${path} is a directory`);
      if (target.stat && fileType(target.stat) !== 'file') throw new RelayError('NOT_A_FILE', `${path} is not a regular file`);
      const kept = target.stat && this.#keepsOwner(target.stat.uid, target.stat.gid) ? target.stat : undefined;
      const name = `.${randomBytes(6).toString('hex')}.sandbox-terminal-upload`;
      const fs = this.#fs;
      const fd = walk.call(() => fs.openat(target.parentFd, name, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW, 0o600));
      temporary = { fd, name, parentFd: target.parentFd };
      await fill(fd).catch((error: unknown) => {
        throw fileError(path, error);
      });
      // The owner and mode the file ends with are set on the descriptor, before anyone inside can open it.
      if (this.#owner.uid >= 0) fchownSync(fd, kept?.uid ?? this.#owner.uid, kept?.gid ?? this.#owner.gid);
      fchmodSync(fd, (target.stat?.mode ?? mode ?? NEW_FILE_MODE) & KEPT_MODE_BITS);
      walk.call(() => fs.renameat2(target.parentFd, name, target.parentFd, target.name, 0));
      closeSync(fd);
      temporary = undefined;
    } finally {
      if (temporary) {
        closeSync(temporary.fd);
        try {
          this.#fs.unlinkat(temporary.parentFd, temporary.name, 0);
        } catch {
          // already gone
        }
      }
      walk.close();
    }
  }

  /** Opens a regular file for reading (the route streams it); FIFOs, sockets and devices are NOT_A_FILE. */
  async openRead(path: string): Promise<OpenedFile> {
    await this.#ready();
    const walk = new WorkspaceWalk(this.hostRoot, path);
    try {
      const fs = this.#fs;
      // Checked again on the descriptor: the name may have been swapped for a FIFO since (then O_NONBLOCK keeps the open from blocking).
      const fd = this.#openFinal(walk, path, fs.O_RDONLY | fs.O_NOFOLLOW | fs.O_NONBLOCK, true);
      try {
        const info = fstatSync(fd);
        if (info.isDirectory()) throw new RelayError('NOT_A_FILE', `${path} is a directory`);
        if (!info.isFile()) throw new RelayError('NOT_A_FILE', `${path} is not a regular file`);
        if (info.size > this.maxFileBytes) throw limitExceeded('fileBytes', this.maxFileBytes, `file is ${info.size} bytes; the limit is ${this.maxFileBytes}`);
        if (info.size === 0) {
          closeSync(fd);
          return { size: 0, stream: Readable.from([]) };
        }
        // Exactly the size announced: a file that grows meanwhile is cut there, as its Content-Length says.
        return { size: info.size, stream: createReadStream('', { fd, start: 0, end: info.size - 1, autoClose: true }) };
      } catch (error) {
        closeSync(fd);
        throw error;
      }
    } finally {
      walk.close();
    }
  }

  /** Reads a whole file into memory. */
  async read(path: string): Promise<Uint8Array> {
    const { size, stream } = await this.openRead(path);
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return new Uint8Array(Buffer.concat(chunks, size));
  }

  async mkdir(path: string, recursive: boolean): Promise<void> {
    await this.#ready();
    const walk = new WorkspaceWalk(this.hostRoot, path);
    try {
      const target = walk.resolve(checkSandboxPath(path), recursive ? { createParents: this.#owner } : {});
      if (target.stat) {
        if (recursive && fileType(target.stat) === 'directory') return;
        throw new RelayError('FILE_ERROR', `${path} already exists`);
      }
      walk.call(() => this.#fs.mkdirat(target.parentFd, target.name, 0o755));
      chownQuietly(this.#fs, target.parentFd, target.name, this.#owner);
    } finally {
      walk.close();
    }
  }

  /** Deletes a file or symlink (never what it points to), or a directory when `recursive`. */
  async delete(path: string, recursive = false): Promise<void> {
    await this.#ready();
    const walk = new WorkspaceWalk(this.hostRoot, path);
    try {
      const target = walk.resolve(checkSandboxPath(path), { followLast: false });
      if (target.name === '') throw new RelayError('PATH_OUTSIDE_WORKSPACE', `refusing to delete ${WORKSPACE_ROOT} itself`);
      if (!target.stat) throw new RelayError('FILE_NOT_FOUND', `no such file or directory: ${path}`);
      if (fileType(target.stat) !== 'directory') {
        walk.call(() => this.#fs.unlinkat(target.parentFd, target.name, 0));
        return;
      }
      if (!recursive) throw new RelayError('NOT_A_FILE', `${path} is a directory`);
      await this.#removeTree(walk, path, target.parentFd, target.name);
    } finally {
      walk.close();
    }
  }

  async exists(path: string): Promise<boolean> {
    await this.#ready();
    const walk = new WorkspaceWalk(this.hostRoot, path);
    try {
      return walk.resolve(checkSandboxPath(path)).stat !== undefined;
    } catch (error) {
      if (error instanceof RelayError && (error.code === 'FILE_NOT_FOUND' || error.code === 'NOT_A_FILE')) return false;
      throw error;
    } finally {
      walk.close();
    }
  }

  async list(path: string): Promise<FileEntry[]> {
    await this.#ready();
    const walk = new WorkspaceWalk(this.hostRoot, path);
    const fs = this.#fs;
    try {
      const target = walk.resolve(checkSandboxPath(path));
      if (!target.stat) throw new RelayError('FILE_NOT_FOUND', `no such file or directory: ${path}`);
      if (fileType(target.stat) !== 'directory') throw new RelayError('NOT_A_FILE', `${path} is not a directory`);
      const dirFd = target.name === '' ? target.parentFd : this.#openFinal(walk, path, fs.O_PATH | fs.O_DIRECTORY | fs.O_NOFOLLOW);
      try {
        const names = walk.call(() => fs.readdir(dirFd, this.maxListEntries + 1)).sort();
        if (names.length > this.maxListEntries) {
          throw limitExceeded('listEntries', this.maxListEntries, `${path} has more than ${this.maxListEntries} entries; list a directory below it, or use exec (ls, find)`);
        }
        const entries: FileEntry[] = [];
        for (const [index, name] of names.entries()) {
          if (index > 0 && index % ENTRIES_PER_TURN === 0) await nextTurn();
          let info;
          try {
            info = fs.fstatat(dirFd, name, fs.AT_SYMLINK_NOFOLLOW);
          } catch {
            continue; // removed meanwhile
          }
          entries.push({ name, path: `${target.sandboxPath === WORKSPACE_ROOT ? WORKSPACE_ROOT : target.sandboxPath}/${name}`, type: fileType(info), size: info.size, modifiedAt: new Date(info.mtimeMs).toISOString() });
        }
        return entries;
      } finally {
        if (dirFd !== target.parentFd) closeSync(dirFd);
      }
    } finally {
      walk.close();
    }
  }

  /**
   * Opens the file a path names (symlinks inside the workspace followed), retrying when it changes under the walk.
   * With `regular`, anything else is refused before it is opened (opening a FIFO or a device can have effects).
   */
  #openFinal(walk: WorkspaceWalk, path: string, flags: number, regular = false): number {
    const sandboxPath = checkSandboxPath(path);
    for (let attempt = 0; attempt < 8; attempt++) {
      const target = walk.resolve(sandboxPath);
      if (!target.stat) throw new RelayError('FILE_NOT_FOUND', `no such file or directory: ${path}`);
      if (regular && fileType(target.stat) === 'directory') throw new RelayError('NOT_A_FILE', `${path} is a directory`);
      if (regular && fileType(target.stat) !== 'file') throw new RelayError('NOT_A_FILE', `${path} is not a regular file`);
      if (target.name === '') return walk.call(() => this.#fs.openat(target.parentFd, '.', flags, 0));
      const fd = walk.openIn(target.parentFd, target.name, flags);
      if (fd !== undefined) return fd;
    }
    throw new RelayError('FILE_ERROR', `${path} kept changing while it was opened`);
  }

  /** Removes a directory tree below `parentFd`/`name` without following any symlink, yielding to the event loop. */
  async #removeTree(walk: WorkspaceWalk, path: string, parentFd: number, name: string): Promise<void> {
    const fs = this.#fs;
    let handled = 0;
    const remove = async (dirFd: number, entry: string, depth: number): Promise<void> => {
      if (++handled % ENTRIES_PER_TURN === 0) await nextTurn();
      let fd: number | undefined;
      try {
        fd = fs.openat(dirFd, entry, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW, 0);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Not a directory (any more): unlink the entry itself; a symlink goes, its target stays.
        if (code === 'ENOTDIR' || code === 'ELOOP') return walk.call(() => fs.unlinkat(dirFd, entry, 0));
        if (code === 'ENOENT') return;
        throw fileError(path, error);
      }
      try {
        if (depth > MAX_DELETE_DEPTH) throw new RelayError('FILE_ERROR', `directory tree is deeper than ${MAX_DELETE_DEPTH} levels`);
        // A batch at a time: the entries of a huge directory are never all in memory, and each batch is gone when the
        // next is read. A sandbox that refills the tree as fast as it goes cannot keep the delete running for ever.
        for (let batch = fs.readdir(fd, ENTRIES_PER_TURN); batch.length > 0; batch = fs.readdir(fd, ENTRIES_PER_TURN)) {
          for (const child of batch) await remove(fd, child, depth + 1);
          if (handled > MAX_DELETE_ENTRIES) throw new RelayError('FILE_ERROR', `${path}: more than ${MAX_DELETE_ENTRIES} entries removed and more keep coming`);
        }
      } finally {
        closeSync(fd);
      }
      try {
        fs.unlinkat(dirFd, entry, fs.AT_REMOVEDIR);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(path, error);
      }
    };
    await remove(parentFd, name, 0);
  }

  async #ready(): Promise<void> {
    try {
      await this.ready;
    } catch {
      throw new RelayError('FILE_ERROR', 'the workspace could not be prepared (the relay log says why)');
    }
  }

  /** Whether a replaced file's owner is one the sandbox may have (its own ids); anything else becomes the sandbox's root. */
  #keepsOwner(uid: number, gid: number): boolean {
    return this.ids ? insideRange(this.ids, uid, gid) : false;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
