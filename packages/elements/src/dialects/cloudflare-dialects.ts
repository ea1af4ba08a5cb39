import { parseCloudflareFrame } from './cloudflare-frames.ts';
import type { CloseOutcome, ConnectionAttempt, DialectHost, TerminalDialect, TerminalProtocol } from './dialect.ts';

/**
 * A Cloudflare Worker's terminal route: the Worker picks the sandbox and session, the socket carries keystrokes and
 * output as binary frames, the server sends `ready` / `exit` / `error` JSON frames, and it redraws its screen (a
 * replayed buffer, or tmux drawing the pane) on every connect. No cursor, no acks, no pings, no subprotocol: offering
 * ours would make this project's relay speak its own protocol instead.
 */
abstract class CloudflareDialect implements TerminalDialect {
  abstract readonly protocol: TerminalProtocol;
  readonly sessionId = undefined;
  readonly sandboxAsleep = false;
  readonly keepaliveFrame = undefined;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  abstract resizeFrame(size: { cols: number; rows: number }): string;

  async nextAttempt(): Promise<ConnectionAttempt> {
    return { url: this.#url, protocols: [] };
  }

  opened(host: DialectHost): void {
    // The server draws everything again on every connect: start from a clean screen, count no positions.
    host.resetTerminal();
    host.output.start(undefined);
  }

  receiveText(text: string, host: DialectHost): void {
    const frame = parseCloudflareFrame(text);
    switch (frame?.type) {
      case 'ready':
        host.attached({ mode: 'attached' });
        // `ready` does not say the size: tell the server ours.
        host.sendText(this.resizeFrame(host.size()));
        break;
      case 'exit':
        host.exited({ type: 'exit', exitCode: frame.exitCode, signal: frame.signal });
        break;
      case 'error':
        host.reportError({ code: frame.code, message: frame.message });
        break;
    }
  }

  closed(_code: number, _reason: string, host: DialectHost): CloseOutcome {
    // Such a server ends the socket when the shell exits; coming back would hide the exit state.
    return host.status.state === 'exited' ? { kind: 'exited' } : { kind: 'retry' };
  }

  expectRestart(): void {
    // The Worker decides whether a reconnect gets a new shell.
  }
}

/** Sandbox SDK 0.x: a Worker route that returns `sandbox.terminal(request)`; resize is `{"type":"resize","cols","rows"}`. */
export class CloudflareSdk0Dialect extends CloudflareDialect {
  readonly protocol = 'cloudflare';

  resizeFrame(size: { cols: number; rows: number }): string {
    return JSON.stringify({ type: 'resize', ...size });
  }
}

/**
 * A Worker that follows Cloudflare's Sandbox SDK 1.0 browser-terminal recipe (1.0 removed `sandbox.terminal()`):
 * binary keystrokes, a resize as a bare `{"cols","rows"}` object, and a `{"type":"ready"}` frame once attached.
 */
export class CloudflareSdk1Dialect extends CloudflareDialect {
  readonly protocol = 'cloudflare-1';

  resizeFrame(size: { cols: number; rows: number }): string {
    return JSON.stringify(size);
  }
}

