import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { RelayError } from '../errors.ts';
import { sendError } from '../http/http-io.ts';

/** A connection to the owner that has not been set up in this long counts as refused. */
export const FORWARD_CONNECT_TIMEOUT_MS = 2_000;
/** The status a relay answers a forwarded call with when it does not own the sandbox (any more): the sender retries. */
export const MISDIRECTED_STATUS = 421;

/**
 * How a forward ended: `done` (an answer, or an error, reached the client), `unreachable` (no connection could be made:
 * the owner never saw the call, so it may be sent elsewhere), `misdirected` (the relay is not the owner any more, and
 * said so before reading the call: it may be sent elsewhere if its body can be sent again).
 */
export type ForwardOutcome = 'done' | 'unreachable' | 'misdirected';

export interface ForwardedTraffic {
  kind: 'http' | 'websocket';
  /** Bytes sent to the owner and received from it on the connection, headers included. */
  toOwner: number;
  fromOwner: number;
}

export interface ForwardRequest {
  /** The owner's advertised URL. */
  ownerUrl: string;
  /** The normalized path and query the relay matched (never the raw request line). */
  pathAndQuery: string;
  /** Headers to add or replace (the hop signature, the request id). */
  headers: Record<string, string>;
  /** The whole body, already read, so the call can be sent again; undefined to stream it from the request. */
  body: Buffer | undefined;
}

/** One forwarded HTTP call's state, found again from http-proxy-3's server-wide events. */
interface CallState {
  body: Buffer | undefined;
  source: PassThrough | undefined;
  request: IncomingMessage;
  proxyRequest: ClientRequest | undefined;
  connected: boolean;
  finish: (outcome: ForwardOutcome) => void;
  socket: Socket | undefined;
  bytesAtStart: { written: number; read: number };
  /** Taken when the owner's answer ends: a keep-alive connection may carry the next call right after. */
  bytesAtEnd: { written: number; read: number } | undefined;
}

/** Headers of a connection, not of a message (RFC 9110 §7.6.1): they are the client connection's own business. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/**
 * Passes a call to the relay that owns its sandbox and its answer back, unchanged: status, headers and body, streamed
 * both ways (http-proxy-3). Terminal WebSockets are passed as bytes once the owner has accepted the upgrade, so every
 * frame, in both directions, and the close code arrive exactly as the owner and the client sent them.
 *
 * The request body is held back until the connection to the owner is up: a refused connection leaves it unread, so
 * the caller can send the call to another relay instead. Calls to owners go over keep-alive connections.
 */
export class OwnerForwarder {
  readonly #proxy = createProxyServer({ xfwd: false });
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  readonly #calls = new WeakMap<IncomingMessage, CallState>();

  constructor(private readonly counted: (traffic: ForwardedTraffic) => void) {
    this.#proxy.on('proxyReq', (proxyRequest, request, _response, _options, socket) => this.#started(proxyRequest, request, socket));
    this.#proxy.on('proxyRes', (proxyResponse, request, response) => this.#answered(proxyResponse, request, response));
  }

  forwardHttp(request: IncomingMessage, response: ServerResponse, call: ForwardRequest): Promise<ForwardOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const state: CallState = {
        body: call.body,
        source: call.body ? undefined : new PassThrough(),
        request,
        proxyRequest: undefined,
        connected: false,
        socket: undefined,
        bytesAtStart: { written: 0, read: 0 },
        bytesAtEnd: undefined,
        finish: (outcome) => {
          if (settled) return;
          settled = true;
          const end = state.bytesAtEnd ?? (state.socket ? { written: state.socket.bytesWritten, read: state.socket.bytesRead } : state.bytesAtStart);
          this.counted({ kind: 'http', toOwner: end.written - state.bytesAtStart.written, fromOwner: end.read - state.bytesAtStart.read });
          resolve(outcome);
        },
      };
      this.#calls.set(request, state);
      // Our server already answered `Expect: 100-continue`; the owner must not wait for a second go-ahead.
      delete request.headers.expect;
      this.#proxy.web(
        request,
        response,
        {
          target: new URL(call.pathAndQuery, call.ownerUrl),
          ignorePath: true,
          agent: this.#agent,
          headers: call.headers,
          selfHandleResponse: true,
          buffer: state.body ? Readable.from(state.body.length ? [state.body] : []) : state.source!,
        },
        (error) => {
          if (!state.connected) return state.finish('unreachable');
          if (!response.headersSent) sendError(response, new RelayError('SANDBOX_UNAVAILABLE', `the relay running this sandbox failed during the call (${(error as NodeJS.ErrnoException).code ?? 'error'})`));
          else response.destroy();
          state.finish('done');
        },
      );
      response.once('close', () => state.finish('done'));
    });
  }

  /** Connects to the owner first: only then is the client's upgrade passed on, so a refused connection can go elsewhere. */
  async forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, call: Omit<ForwardRequest, 'body'>): Promise<ForwardOutcome> {
    const target = new URL(call.pathAndQuery, call.ownerUrl);
    const upstream = await connectTo(target);
    if (!upstream) return 'unreachable';
    const counted = () => this.counted({ kind: 'websocket', toOwner: upstream.bytesWritten, fromOwner: upstream.bytesRead });
    upstream.once('close', counted);
    this.#proxy.ws(request, socket, head, { target, ignorePath: true, agent: new ConnectedSocketAgent(upstream), headers: call.headers }, () => {
      // http-proxy-3 closes the client's socket itself; the client reconnects as after any drop.
      upstream.destroy();
    });
    return 'done';
  }

  close(): void {
    this.#agent.destroy();
  }

  #started(proxyRequest: ClientRequest, request: IncomingMessage, socket: Socket): void {
    const state = this.#calls.get(request);
    if (!state) return;
    state.proxyRequest = proxyRequest;
    state.socket = socket;
    state.bytesAtStart = { written: socket.bytesWritten, read: socket.bytesRead };
    const begin = () => {
      state.connected = true;
      if (state.source) request.pipe(state.source);
    };
    if (!socket.connecting) return begin();
    const timer = setTimeout(() => proxyRequest.destroy(new Error('connect timeout')), FORWARD_CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      begin();
    });
    socket.once('close', () => clearTimeout(timer));
  }

  #answered(proxyResponse: IncomingMessage, request: IncomingMessage, response: ServerResponse): void {
    const state = this.#calls.get(request);
    if (!state) return;
    if (proxyResponse.statusCode === MISDIRECTED_STATUS) {
      proxyResponse.resume();
      if (state.source) request.unpipe(state.source);
      state.proxyRequest?.destroy();
      return state.finish('misdirected');
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(proxyResponse.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    response.writeHead(proxyResponse.statusCode ?? 502, proxyResponse.statusMessage, headers);
    proxyResponse.once('end', () => {
      if (state.socket) state.bytesAtEnd = { written: state.socket.bytesWritten, read: state.socket.bytesRead };
    });
    proxyResponse.pipe(response);
    // The owner went away mid-answer: the client must see a cut, not a clean end of a shorter body.
    proxyResponse.once('aborted', () => response.destroy());
  }
}

/** Hands http-proxy-3 the connection already made to the owner (it accepts an agent, and an agent may create it). */
class ConnectedSocketAgent extends Agent {
  constructor(private readonly socket: Socket) {
    super({ keepAlive: false });
  }

  override createConnection(): Socket {
    return this.socket;
  }
}

function connectTo(target: URL): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80) });
    const timer = setTimeout(() => fail(), FORWARD_CONNECT_TIMEOUT_MS);
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
