import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  API_ROUTES,
  TERMINAL_CLOSE_CODES,
  closeCodeForError,
  TERMINAL_MAX_COLS,
  TERMINAL_MAX_ROWS,
  TERMINAL_MIN_COLS,
  TERMINAL_MIN_ROWS,
  TERMINAL_SUBPROTOCOL,
  parseClientControl,
  parseCompatClientControl,
  type ServerControlMessage,
} from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { RelayAuth, type Grant } from '../auth.ts';
import { RelayError, limitExceeded, toErrorPayload } from '../errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { RelayMetrics } from '../metrics.ts';
import { decodePathSegment, routePattern } from '../http/route-pattern.ts';
import type { SandboxPool } from '../sandbox/sandbox-pool.ts';
import type { SessionViewer, ShellSession } from '../session/shell-session.ts';
import { MessageRate } from './message-rate.ts';
import { FrameBuffers, OutputBatcher } from './output-batcher.ts';

/** Frame buffers shared by every terminal socket of this process (see FrameBuffers). */
const TERMINAL_FRAME_BUFFERS = new FrameBuffers();

const TERMINAL_PATH = routePattern(API_ROUTES.terminal);

/**
 * The terminal WebSocket: one per viewer of a (sandbox, session). Binary frames are raw bytes both ways; text
 * frames are JSON control messages from packages/protocol. Bad frames get an `error` message; the connection
 * and the session stay up.
 */
export class TerminalSocketServer {
  readonly #server: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();

  constructor(
    private readonly pool: SandboxPool,
    private readonly limits: RelayLimits,
    private readonly log: Logger,
    private readonly metrics: RelayMetrics,
    private readonly auth: RelayAuth,
  ) {
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: limits.terminalMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(TERMINAL_SUBPROTOCOL) ? TERMINAL_SUBPROTOCOL : false),
    });
  }

  /** True when the request is for this endpoint (the relay routes upgrades here). */
  matches(url: URL): boolean {
    return TERMINAL_PATH.test(url.pathname);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    this.#server.handleUpgrade(request, socket, head, (ws) => {
      this.#sockets.add(ws);
      ws.once('close', () => this.#sockets.delete(ws));
      // ws reports protocol violations (a frame over maxPayload, bad opcodes, invalid UTF-8 in text) as an 'error'
      // and then closes the socket itself (1009, 1002, 1007); unhandled, that error would crash the relay.
      ws.on('error', (error) => this.log.debug({ err: error }, 'terminal socket error'));
      void this.#attach(ws, url, RelayAuth.upgradeToken(request));
    });
  }

  /** Closes every terminal socket (optionally of one sandbox) as a network drop would; sessions keep running. */
  dropConnections(sandboxId?: string): number {
    let dropped = 0;
    for (const ws of this.#sockets) {
      if (sandboxId && (ws as WebSocket & { sandboxId?: string }).sandboxId !== sandboxId) continue;
      ws.terminate();
      dropped++;
    }
    return dropped;
  }

  close(): void {
    for (const ws of this.#sockets) ws.close(TERMINAL_CLOSE_CODES.SHUTTING_DOWN, 'relay shutting down');
    this.#server.close();
  }

  async #attach(ws: WebSocket, url: URL, token: string | undefined): Promise<void> {
    const [, rawSandbox = '', rawSession = ''] = TERMINAL_PATH.exec(url.pathname) ?? [];
    let sandboxId: string;
    let sessionId: string;
    try {
      sandboxId = decodePathSegment(rawSandbox);
      sessionId = decodePathSegment(rawSession);
    } catch (error) {
      ws.send(JSON.stringify({ type: 'error', ...toErrorPayload(error) }));
      ws.close(TERMINAL_CLOSE_CODES.BAD_REQUEST, 'malformed path');
      return;
    }
    (ws as WebSocket & { sandboxId?: string }).sandboxId = sandboxId;
    // Without our subprotocol the client is taken for a Cloudflare Sandbox SDK v0.x terminal client: it gets raw
    // bytes and only the `ready`, `exit` and `error` frames it knows (see docs/protocol.md, "Compatibility").
    const protocol = ws.protocol === TERMINAL_SUBPROTOCOL ? 'v1' : 'compat';
    const output = new OutputBatcher((data, sent) => {
      if (ws.readyState !== ws.OPEN) return sent?.();
      // The callback runs once the socket has written the frame (or failed to): a pooled buffer may be reused then.
      ws.send(data, { binary: true }, sent);
      this.metrics.terminalOutput(data.length);
    }, TERMINAL_FRAME_BUFFERS);
    ws.once('close', () => output.discard());
    const send = (message: ServerControlMessage) => {
      output.flush();
      if (ws.readyState !== ws.OPEN) return;
      const shaped = protocol === 'v1' ? message : compatMessage(message);
      if (shaped) ws.send(JSON.stringify(shaped));
    };
    // Frames are handled strictly in order, including those that arrive while the session is found or woken.
    let session: ShellSession | undefined;
    let grant: Grant | undefined;
    let ready: () => void;
    let inOrder = new Promise<void>((resolve) => (ready = resolve));
    const viewer: SessionViewer = {
      protocol,
      sendOutput: (data) => {
        if (ws.readyState === ws.OPEN) output.push(data);
      },
      sendControl: send,
      get bufferedAmount() {
        return ws.bufferedAmount + output.pendingBytes;
      },
      close: (code, reason) => {
        output.flush();
        ws.close(code, reason);
      },
    };
    const rate = new MessageRate(this.limits.terminalMessagesPerSecond);
    /** Frames not handled yet: while there are any, the next one waits its turn. */
    let waiting = 0;
    ws.on('message', (frame, binary) => {
      if (!rate.take()) {
        if (rate.shouldReport()) {
          const limit = this.limits.terminalMessagesPerSecond;
          send({ type: 'error', ...limitExceeded('terminalMessagesPerSecond', limit, `more than ${limit} messages a second: frames are being dropped`).toPayload() });
        }
        return;
      }
      // Nothing before it is pending (the usual case, every ack of a flood among them): handled at once, without a
      // promise per frame. A frame that has to wait (a keystroke that wakes a sleeping sandbox) holds the later ones.
      if (waiting === 0 && session && grant) {
        const pending = this.#handle(session, grant, viewer, frame, binary, send);
        if (!pending) return;
        waiting++;
        inOrder = pending.finally(() => waiting--);
        return;
      }
      waiting++;
      inOrder = inOrder.then(() => (session && grant ? this.#handle(session, grant, viewer, frame, binary, send) : undefined)).finally(() => waiting--);
    });
    try {
      // The token is checked once, at attach: viewing needs `read`; typing and resizing are checked per frame.
      const verified = await this.auth.verify(token);
      verified.require({ sandbox: sandboxId, session: sessionId, scope: 'read' });
      session = await this.pool.findSession(sandboxId, sessionId);
      const size = initialSize(url);
      if (size && session.viewerCount === 0 && verified.allows('write')) session.resize(size.cols, size.rows);
      // The session tells its attached viewers of a recreation itself; this one attaches after it, so is told here.
      const recreation = session.status === 'exited' ? undefined : await session.wake();
      if (ws.readyState !== ws.OPEN) return;
      if (recreation) send({ type: 'session-recreated', sessionId, ...recreation });
      session.attach(viewer, recreation ? 'recreated' : 'attached', cursorParam(url));
      // 1000/1001 are deliberate closes; anything else (1006: the connection dropped) is probably coming back.
      ws.once('close', (code) => session?.detach(viewer, code !== 1000 && code !== 1001));
      grant = verified;
      ready!();
    } catch (error) {
      const payload = toErrorPayload(error);
      send({ type: 'error', ...payload });
      const code = closeCodeForError(payload.code);
      if (payload.code === 'INTERNAL') this.log.error({ err: error, sandbox: sandboxId, session: sessionId }, 'terminal attach failed');
      ws.close(code, payload.message.slice(0, 120));
    }
  }

  /**
   * Handles one frame and never throws or rejects: whatever a frame causes is answered to this viewer as an error
   * frame, so one bad frame can neither end the relay (an uncaught exception) nor stop the frames behind it.
   */
  #handle(session: ShellSession, grant: Grant, viewer: SessionViewer, data: RawData, isBinary: boolean, send: (message: ServerControlMessage) => void): Promise<void> | undefined {
    const answer = (error: unknown) => send({ type: 'error', ...toErrorPayload(error) });
    try {
      const pending = this.#onMessage(session, grant, viewer, data, isBinary, send);
      return pending instanceof Promise ? pending.catch(answer) : undefined;
    } catch (error) {
      answer(error);
      return undefined;
    }
  }

  /** Handles one frame; returns a promise only when it has to wait (typing into a sleeping session wakes it first). */
  #onMessage(session: ShellSession, grant: Grant, viewer: SessionViewer, data: RawData, isBinary: boolean, send: (message: ServerControlMessage) => void): Promise<void> | void {
    if (!isBinary) {
      // A compat client may also resize as Cloudflare's SDK 1.0 recipe does: `{"cols","rows"}` without `type`.
      const parsed = (viewer.protocol === 'compat' ? parseCompatClientControl : parseClientControl)(data.toString());
      if (!parsed.ok) return send({ type: 'error', ...parsed.error });
      const message = parsed.value;
      if (message.type === 'ping') return send({ type: 'pong' });
      if (message.type === 'ack') return session.ack(viewer, message.position);
      if (!grant.allows('write')) return send({ type: 'error', ...readOnly('resize').toPayload() });
      session.resize(message.cols, message.rows);
      return;
    }
    if (!grant.allows('write')) return send({ type: 'error', ...readOnly('type').toPayload() });
    // Typing into a sleeping session wakes the sandbox and recreates the shell first; the keystroke follows.
    if (session.status === 'sleeping') return session.wake().then(() => this.#type(session, data, send), (error: unknown) => send({ type: 'error', ...toErrorPayload(error) }));
    this.#type(session, data, send);
  }

  #type(session: ShellSession, data: RawData, send: (message: ServerControlMessage) => void): void {
    try {
      if (session.status === 'exited') {
        throw new RelayError('SESSION_EXITED', `the shell exited with code ${session.exitCode}; restart the session to continue`);
      }
      const bytes = toBuffer(data);
      session.write(bytes);
      this.metrics.terminalInput(bytes.length);
    } catch (error) {
      send({ type: 'error', ...toErrorPayload(error) });
    }
  }
}

function readOnly(action: string): RelayError {
  return new RelayError('FORBIDDEN', `a read token cannot ${action} in a terminal`, { scope: 'read', needed: 'write' });
}

/** What a Cloudflare-style client understands: `ready`, `exit` (with `code`, as v0.x sends it) and `error`. */
function compatMessage(message: ServerControlMessage): object | undefined {
  switch (message.type) {
    case 'ready':
    case 'error':
      return message;
    case 'exit':
      return { ...message, code: message.exitCode, exit: { code: message.exitCode, signal: message.signal } };
    default:
      return undefined;
  }
}

/** `?cursor=N`: the output position up to which the client has rendered (a non-negative integer). */
function cursorParam(url: URL): number | undefined {
  const raw = url.searchParams.get('cursor');
  if (raw === null || !/^\d{1,16}$/.test(raw)) return undefined;
  return Number(raw);
}

function initialSize(url: URL): { cols: number; rows: number } | undefined {
  const cols = Number(url.searchParams.get('cols'));
  const rows = Number(url.searchParams.get('rows'));
  if (!Number.isInteger(cols) || !Number.isInteger(rows)) return undefined;
  if (cols < TERMINAL_MIN_COLS || cols > TERMINAL_MAX_COLS || rows < TERMINAL_MIN_ROWS || rows > TERMINAL_MAX_ROWS) return undefined;
  return { cols, rows };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
