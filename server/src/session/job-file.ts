import { closeSync, constants, ftruncateSync, openSync, writeSync } from 'node:fs';

/**
 * A session's job file, kept open and rewritten in place. Rewriting it by path (`writeFileSync`: open with O_TRUNC,
 * write, close) cost ~0.25 ms per exec on ext4, whose `auto_da_alloc` flushes a file that was truncated to zero and
 * written again when it is closed; writing from offset 0 and then cutting to the new length takes ~15 µs. The shell
 * only reads the file after the exec key, when the write is complete.
 */
export class JobFile {
  readonly #path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  write(content: string): void {
    // 0o666 before the umask, as writeFileSync creates it; O_NOFOLLOW as the control directory is ours alone anyway.
    this.#fd ??= openSync(this.#path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
    const bytes = Buffer.from(content);
    writeSync(this.#fd, bytes, 0, bytes.length, 0);
    ftruncateSync(this.#fd, bytes.length);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
