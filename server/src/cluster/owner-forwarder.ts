import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
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

/** Headers of a connection, not of a message (RFC 9110 §7.6.1): they are the client connection's own business. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/**
 * Passes a call to the relay that owns its sandbox and its answer back, unchanged: status, headers and body, streamed
 * both ways (http-proxy-3). Terminal WebSockets are passed as bytes once the owner has accepted the upgrade, so every
 * frame, in both directions, and the close code arrive exactly as the owner and the client sent them.
 *
 * Each call gets a connection of its own, made before anything of the call is passed on: a refused connection means
 * the owner never saw the call, which may then go to another relay; a connection that breaks later means the owner
 * had it, and the call is not sent again. (A keep-alive connection could break either way, and from outside there is
 * no telling which: an exec could run twice.)
 */
export class OwnerForwarder {
  readonly #proxy = createProxyServer({ xfwd: false });
  readonly #misdirected = new WeakSet<IncomingMessage>();

  constructor(private readonly counted: (traffic: ForwardedTraffic) => void) {
    this.#proxy.on('proxyRes', (proxyResponse, request, response) => this.#answered(proxyResponse, request, response));
  }

  async forwardHttp(request: IncomingMessage, response: ServerResponse, call: ForwardRequest): Promise<ForwardOutcome> {
    const target = new URL(call.pathAndQuery, call.ownerUrl);
    this.#misdirected.delete(request); // an earlier attempt of the same call may have been
    const upstream = await connectTo(target);
    if (!upstream) return 'unreachable';
    // Our server already answered `Expect: 100-continue`; the owner must not wait for a second go-ahead.
    delete request.headers.expect;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: ForwardOutcome) => {
        if (settled) return;
        settled = true;
        this.counted({ kind: 'http', toOwner: upstream.bytesWritten, fromOwner: upstream.bytesRead });
        upstream.destroy();
        resolve(outcome);
      };
      upstream.once('close', () => finish(this.#misdirected.has(request) ? 'misdirected' : 'done'));
      response.once('close', () => finish(this.#misdirected.has(request) ? 'misdirected' : 'done'));
      this.#proxy.web(
        request,
        response,
        {
          target,
          ignorePath: true,
          agent: new ConnectedSocketAgent(upstream),
          headers: { ...call.headers, connection: 'close' },
          selfHandleResponse: true,
          ...(call.body ? { buffer: Readable.from(call.body.length ? [call.body] : []) } : {}),
        },
        (error) => {
          if (this.#misdirected.has(request)) return finish('misdirected');
          if (!response.headersSent) sendError(response, new RelayError('SANDBOX_UNAVAILABLE', `the relay running this sandbox failed during the call (${(error as NodeJS.ErrnoException).code ?? 'error'})`));
          else response.destroy();
          finish('done');
        },
      );
    });
  }

  /** Connects to the owner first: only then is the client's upgrade passed on, so a refused connection can go elsewhere. */
  async forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, call: Omit<ForwardRequest, 'body'>): Promise<ForwardOutcome> {
    const target = new URL(call.pathAndQuery, call.ownerUrl);
    const upstream = await connectTo(target);
    if (!upstream) return 'unreachable';
    upstream.once('close', () => this.counted({ kind: 'websocket', toOwner: upstream.bytesWritten, fromOwner: upstream.bytesRead }));
    this.#proxy.ws(request, socket, head, { target, ignorePath: true, agent: new ConnectedSocketAgent(upstream), headers: call.headers }, () => {
      // http-proxy-3 closes the client's socket itself; the client reconnects as after any drop.
      upstream.destroy();
    });
    return 'done';
  }

  #answered(proxyResponse: IncomingMessage, request: IncomingMessage, response: ServerResponse): void {
    if (proxyResponse.statusCode === MISDIRECTED_STATUS) {
      // Not the owner (any more): it answered before reading the call, which goes elsewhere if its body was kept.
      this.#misdirected.add(request);
      proxyResponse.resume();
      proxyResponse.socket.destroy();
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(proxyResponse.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    response.writeHead(proxyResponse.statusCode ?? 502, proxyResponse.statusMessage, headers);
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
