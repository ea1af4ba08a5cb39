import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { MarkerScanner } from './marker-scanner.ts';
import { OUTPUT_END_PREFIX, OUTPUT_END_TERMINATOR } from './shell-integration.ts';

export interface OutputPipeHandlers {
  data(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** An end marker: `jobId` and, on stdout, the exit code. */
  end(stream: 'stdout' | 'stderr', jobId: string, exitCode: number | undefined): void;
}

/**
 * The two FIFOs a session's shell writes exec output to. The relay opens them read-write so they never see EOF
 * between commands (and so the shell's open for writing never blocks), and reads them through libuv like sockets.
 */
export class ExecOutputPipes {
  readonly #sockets: Socket[] = [];

  constructor(stdoutPath: string, stderrPath: string, handlers: OutputPipeHandlers) {
    execFileSync('mkfifo', ['-m', '600', stdoutPath, stderrPath]);
    for (const [stream, path] of [['stdout', stdoutPath], ['stderr', stderrPath]] as const) {
      const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
      const socket = new Socket({ fd, readable: true, writable: false });
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
      socket.on('error', () => socket.destroy());
      this.#sockets.push(socket);
    }
  }

  close(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
