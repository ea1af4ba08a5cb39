import { closeSync, constants, ftruncateSync, openSync, writeSync } from 'node:fs';

/**
 * A shorter job than the last one is padded with spaces up to this many bytes instead of cutting the file: bash
 * ignores trailing blanks, and the write then costs the one syscall. Beyond it the file is cut, so one long command
 * does not make every later job write its length again.
 */
const JOB_PADDING_MAX_BYTES = 4096;

/**
 * A session's job file, kept open and rewritten in place. Rewriting it by path (`writeFileSync`: open with O_TRUNC,
 * write, close) cost ~0.25 ms per exec on ext4, whose `auto_da_alloc` flushes a file that was truncated to zero and
 * written again when it is closed; writing from offset 0 (and cutting the file only when it would shrink a lot, see
 * `JOB_PADDING_MAX_BYTES`) takes one `pwrite`. The shell only reads the file after the exec key, when the write is
 * complete.
 */
export class JobFile {
  readonly #path: string;
  #fd: number | undefined;
  /** The file's length now. */
  #length = 0;

  constructor(path: string) {
    this.#path = path;
  }

  write(content: string): void {
    // 0o666 before the umask, as writeFileSync creates it; O_NOFOLLOW as the control directory is ours alone anyway.
    if (this.#fd === undefined) {
      this.#fd = openSync(this.#path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o666);
      this.#length = 0;
    }
    const length = Buffer.byteLength(content);
    const padding = length < this.#length && this.#length - length <= JOB_PADDING_MAX_BYTES ? this.#length - length : 0;
    const bytes = Buffer.allocUnsafe(length + padding);
    bytes.write(content, 0, 'utf8');
    bytes.fill(0x20, length);
    writeSync(this.#fd, bytes, 0, bytes.length, 0);
    if (bytes.length < this.#length) ftruncateSync(this.#fd, bytes.length);
    this.#length = bytes.length;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
