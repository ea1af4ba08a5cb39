import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { MarkerScanner } from './marker-scanner.ts';
import { OUTPUT_END_PREFIX, OUTPUT_END_TERMINATOR, STATE_END_PREFIX, STATE_END_TERMINATOR } from './bash-contract.ts';

export interface OutputPipeHandlers {
  data(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** An end marker: `jobId` and, on stdout, the exit code. */
  end(stream: 'stdout' | 'stderr', jobId: string, exitCode: number | undefined): void;
  /** One state record (cwd, NUL, `export -p`), written by the shell at every prompt and after every job. */
  state(record: Buffer): void;
}

/** A state record larger than this is dropped (a shell exporting megabytes is not worth saving). */
const STATE_RECORD_MAX_BYTES = 1024 * 1024;

/**
 * The FIFOs a session's shell writes to: exec stdout and stderr, and its state. FIFOs, because the control
 * directory is mounted read-only in the sandbox: the shell can write to them but cannot plant a file or symlink the
 * relay would then follow. The relay opens them read-write so they never see EOF between writers (and the shell's
 * open for writing never blocks), and reads them through libuv like sockets.
 */
export class ShellPipes {
  readonly #sockets: Socket[] = [];
  /** The exec output FIFOs (not the state FIFO): paused with the PTY, so a command's output is flow-controlled too. */
  readonly #output: Socket[] = [];

  constructor(stdoutPath: string, stderrPath: string, statePath: string, handlers: OutputPipeHandlers) {
    // Writable by the sandbox's user (an unprivileged host uid); no other host user can reach the control dir.
    execFileSync('mkfifo', ['-m', '622', stdoutPath, stderrPath, statePath]);
    this.#readState(statePath, handlers);
    for (const [stream, path] of [['stdout', stdoutPath], ['stderr', stderrPath]] as const) {
      const socket = this.#open(path);
      this.#output.push(socket);
      const scanner = new MarkerScanner(OUTPUT_END_PREFIX, OUTPUT_END_TERMINATOR, 64);
      socket.on('data', (chunk: Buffer) => {
        for (const segment of scanner.push(chunk)) {
          if (segment.kind === 'data') {
            handlers.data(stream, segment.data);
            continue;
          }
          const [jobId = '', code] = segment.payload.split(':');
          handlers.end(stream, jobId, code === undefined ? undefined : Number(code));
        }
      });
    }
  }

  #readState(path: string, handlers: OutputPipeHandlers): void {
    const socket = this.#open(path);
    const scanner = new MarkerScanner(STATE_END_PREFIX, STATE_END_TERMINATOR, 0);
    let record: Buffer[] = [];
    let size = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const segment of scanner.push(chunk)) {
        if (segment.kind === 'data') {
          size += segment.data.length;
          if (size <= STATE_RECORD_MAX_BYTES) record.push(Buffer.from(segment.data));
          continue;
        }
        if (size <= STATE_RECORD_MAX_BYTES) handlers.state(Buffer.concat(record));
        record = [];
        size = 0;
      }
    });
  }

  #open(path: string): Socket {
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    const socket = new Socket({ fd, readable: true, writable: false });
    socket.on('error', () => socket.destroy());
    this.#sockets.push(socket);
    return socket;
  }

  /**
   * Stops reading exec output: the command then blocks on its next write once the FIFO's kernel buffer (64 KiB) is
   * full, as a program writing to a terminal nobody reads does.
   */
  pause(): void {
    for (const socket of this.#output) socket.pause();
  }

  resume(): void {
    for (const socket of this.#output) socket.resume();
  }

  close(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
