import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HTTP_STATUS_BY_CODE, RELAY_HOP_HEADER, REQUEST_ID_HEADER } from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { RelayError, toErrorPayload } from '../errors.ts';
import { readBody, sendError } from '../http/http-io.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { RuntimeOwnership } from '../sandbox/sandbox-runtime.ts';
import { HopSignature, type ForwardedHop } from './hop-signature.ts';
import { LeaseStore, type LeaseOwner } from './lease-store.ts';
import { MISDIRECTED_STATUS, OwnerForwarder, type ForwardOutcome } from './owner-forwarder.ts';
import { replayedRequest } from './replayed-request.ts';
import { SandboxLeases } from './sandbox-leases.ts';
import { SandboxOwnership, type OwnershipHost, type SandboxHold } from './sandbox-ownership.ts';

export interface ClusterOptions {
  redisUrl: string;
  /** `sandboxLeaseMs`: how long a lease outlives its holder's last renewal. */
  leaseMs: number;
  /** `forwardReplayBytes`: bodies up to this size are read before forwarding, so the call can be sent again elsewhere. */
  replayBytes: number;
  /** How long the last holder of each lease is remembered (as long as session records live). */
  holderMemoryMs: number;
  /** `drainTimeoutMs`: how long an owner that is handing its sandboxes over may take (a call waits that long too). */
  drainMs: number;
  log: Logger;
  metrics: RelayMetrics;
}

/** What the relay knows of one call before it is placed: its sandbox, the normalized path, who sent it. */
export interface CallContext {
  sandboxId: string;
  pathAndQuery: string;
  requestId: string;
  clientAddress: string;
  /** Set when another relay forwarded the call (its signature checked): such a call is never forwarded again. */
  hop: ForwardedHop | undefined;
}

/** A lease still held by a relay that does not answer is waited for this often until it changes hands. */
const OWNER_POLL_MS = 100;
/** Owners one call is sent to before giving up (each one gone, or handing the sandbox over, when the call came). */
const MAX_FORWARD_ATTEMPTS = 5;

/**
 * The relay's part in a group of relays sharing Redis: each sandbox is run by the relay holding its lease, and any
 * relay answers any call. A call for a sandbox is served here when this relay holds (or can take) the lease, and is
 * forwarded to the holder otherwise; when the holder does not answer, the call waits until its lease expires
 * (`sandboxLeaseMs`) and the sandbox starts here instead. Tokens are not looked at here: the relay that serves the
 * call checks them, exactly as for a direct call.
 */
export class RelayCluster {
  readonly ownership: SandboxOwnership;
  readonly #leases: SandboxLeases;
  readonly #forwarder: OwnerForwarder;
  readonly #signature: HopSignature;
  #self: LeaseOwner;

  private constructor(
    private readonly store: LeaseStore,
    key: Buffer,
    private readonly options: ClusterOptions,
    host: OwnershipHost,
  ) {
    const { log, metrics } = options;
    this.#self = { relay: randomUUID(), url: '' };
    this.#signature = new HopSignature(key);
    this.#leases = new SandboxLeases(store, this.#self, options.leaseMs, (id, why) => {
      metrics.leaseLost(why);
      this.ownership.lost(id, why);
    }, log);
    this.ownership = new SandboxOwnership(this.#leases, host, log, () => metrics.leaseTakeover());
    this.#forwarder = new OwnerForwarder((traffic) => metrics.forwardedBytes(traffic.kind, traffic.toOwner, traffic.fromOwner));
  }

  /** Connects to Redis (failing with a message naming it) and reads the cluster's signing key. */
  static async connect(options: ClusterOptions, host: OwnershipHost): Promise<RelayCluster> {
    const store = new LeaseStore(options.redisUrl, options.holderMemoryMs);
    try {
      await store.connect();
      return new RelayCluster(store, await store.clusterKey(), options, host);
    } catch (error) {
      await store.close().catch(() => undefined);
      throw new Error(`the sandbox leases in Redis are unreachable: ${(error as Error).message}`);
    }
  }

  /** The URL other relays reach this one at; set once, when the relay knows where it listens. */
  advertise(url: string): void {
    // Mutated in place: SandboxLeases holds this object and writes it into every lease.
    this.#self.url = url;
  }

  get self(): LeaseOwner {
    return this.#self;
  }

  /** Sandboxes whose lease this relay holds. */
  get owned(): number {
    return this.#leases.count;
  }

  /** The sandboxes' side: a lease before each start, and no record written without one. */
  runtimeOwnership(): RuntimeOwnership {
    const cluster = this;
    return {
      async holdWhileRunning(sandboxId) {
        const placement = await cluster.ownership.place(sandboxId, 'running');
        if ('owner' in placement) throw unavailable(`sandbox ${sandboxId} runs on another relay; send the call again`);
        return placement.hold;
      },
      mayWrite: (sandboxId) => cluster.ownership.owns(sandboxId),
      get relayName() {
        return cluster.self.url;
      },
    };
  }

  /** The forwarding relay's signed header, when valid; the header is removed either way, so nothing behind sees it. */
  acceptHop(request: IncomingMessage, pathAndQuery: string): ForwardedHop | undefined {
    const header = request.headers[RELAY_HOP_HEADER];
    delete request.headers[RELAY_HOP_HEADER];
    return this.#signature.verify(header, request.method ?? 'GET', pathAndQuery);
  }

  /** Serves a sandbox call here, or forwards it to its owner. Never throws. */
  async serveHttp(request: IncomingMessage, response: ServerResponse, call: CallContext, serveHere: (request: IncomingMessage) => Promise<void>): Promise<void> {
    const deadline = performance.now() + this.#ownerWaitMs;
    let body: Buffer | undefined;
    let bodyRead = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const placement = await this.#place(call, 'request');
        if ('hold' in placement) {
          response.once('close', () => placement.hold.release());
          // The body may have been read for a forward that did not happen (the owner had gone): it is served from memory.
          return await serveHere(bodyRead && body ? replayedRequest(request, body) : request);
        }
        if (call.hop) return misdirected(response);
        const owner = placement.owner;
        let outcome: ForwardOutcome = 'unreachable';
        if (this.#answers(owner)) {
          if (!bodyRead) [body, bodyRead] = [await this.#replayableBody(request), true];
          outcome = await this.#forwarder.forwardHttp(request, response, { ownerUrl: owner.url, pathAndQuery: call.pathAndQuery, headers: this.#hopHeaders(request, call), body });
          this.options.metrics.forwarded('http', outcome === 'done' ? 'ok' : outcome);
          if (outcome === 'done') return;
        }
        // A refused connection left a streamed body unread; a misdirected call with one cannot be sent again.
        if (outcome === 'misdirected' && body === undefined) throw unavailable('the sandbox moved while the call was sent; send it again');
        if (attempt >= MAX_FORWARD_ATTEMPTS) throw unavailable('the sandbox keeps moving between relays');
        // Gone, or handing the sandbox over (draining): the call waits for the lease to change hands.
        if (!(await this.#waitForNewOwner(call.sandboxId, owner, deadline))) {
          throw unavailable(`the relay running sandbox ${call.sandboxId} does not answer and still holds it`);
        }
      }
    } catch (error) {
      // A draining relay sends a forwarded call back to the relay that forwarded it, which places it again.
      if (call.hop && error instanceof RelayError && error.code === 'SHUTTING_DOWN' && !response.headersSent) return misdirected(response);
      if (!response.headersSent) sendError(response, error);
      else response.destroy();
    }
  }

  /** Serves a terminal upgrade here (with a hold for as long as its socket lives) or passes it to the owner. */
  async serveUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, call: CallContext, serveHere: () => void): Promise<void> {
    const deadline = performance.now() + this.#ownerWaitMs;
    // Nobody listens on the socket while the call is placed: a reset then must not crash the relay.
    const onError = () => socket.destroy();
    socket.on('error', onError);
    try {
      for (;;) {
        const placement = await this.#place(call, 'viewer');
        if ('hold' in placement) {
          socket.off('error', onError);
          holdWhileOpen(socket, placement.hold);
          return serveHere();
        }
        // The client sees this status as a failed connection, and reconnects with its usual backoff.
        if (call.hop) return refuseUpgrade(socket, unavailable('this relay does not run the sandbox'));
        const owner = placement.owner;
        if (this.#answers(owner)) {
          const outcome = await this.#forwarder.forwardUpgrade(request, socket, head, { ownerUrl: owner.url, pathAndQuery: call.pathAndQuery, headers: this.#hopHeaders(request, call) });
          this.options.metrics.forwarded('websocket', outcome === 'done' ? 'ok' : outcome);
          if (outcome === 'done') return;
        }
        if (socket.destroyed) return;
        if (!(await this.#waitForNewOwner(call.sandboxId, owner, deadline))) {
          return refuseUpgrade(socket, unavailable(`the relay running sandbox ${call.sandboxId} does not answer and still holds it`));
        }
      }
    } catch (error) {
      refuseUpgrade(socket, error);
    }
  }

  /** Stops taking new calls for sandboxes (SHUTTING_DOWN; forwarded ones are sent back) and waits for running ones. */
  async drain(timeoutMs: number): Promise<void> {
    this.ownership.drain();
    const deadline = performance.now() + timeoutMs;
    while (this.ownership.requestsInFlight > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  get draining(): boolean {
    return this.ownership.draining;
  }

  /** After every sandbox was saved: lets go of every lease, then of Redis. */
  async close(): Promise<void> {
    this.ownership.drain();
    await this.ownership.handOverAll();
    this.#leases.stop();
    await this.store.close();
  }

  /**
   * How long a call waits for its sandbox's lease to change hands: a dead holder's lease runs out within one period
   * after its last renewal; a draining holder lets go once its running calls end (`drainTimeoutMs`) and it has saved.
   * Only a holder that is alive but unreachable from here (a partition) makes a call wait all of it.
   */
  get #ownerWaitMs(): number {
    return this.options.leaseMs + this.options.leaseMs / 3 + this.options.drainMs + OWNER_POLL_MS * 2;
  }

  async #place(call: CallContext, kind: 'request' | 'viewer'): Promise<{ hold: SandboxHold } | { owner: LeaseOwner }> {
    try {
      return await this.ownership.place(call.sandboxId, kind);
    } catch (error) {
      if (error instanceof RelayError) throw error;
      this.options.log.error({ err: error, sandbox: call.sandboxId }, 'could not read or take the sandbox lease');
      throw unavailable('the sandbox leases in Redis cannot be reached');
    }
  }

  /**
   * A holder worth calling: not this relay's own address under another relay id (a predecessor here that was killed:
   * calling it would call ourselves), and not a value that names no address.
   */
  #answers(owner: LeaseOwner): boolean {
    return owner.url !== '' && owner.url !== this.#self.url;
  }

  /** True once the lease names another relay or nobody (checked at once, then every OWNER_POLL_MS); false at the deadline. */
  async #waitForNewOwner(sandboxId: string, owner: LeaseOwner, deadline: number): Promise<boolean> {
    for (;;) {
      const now = await this.#leases.owner(sandboxId).catch(() => owner);
      if (now?.relay !== owner.relay) return true;
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, OWNER_POLL_MS));
    }
  }

  /** Small bodies are read whole (a call can then be sent again); larger ones are streamed (`forwardReplayBytes`). */
  async #replayableBody(request: IncomingMessage): Promise<Buffer | undefined> {
    const length = request.headers['content-length'];
    if (request.headers['transfer-encoding'] !== undefined) return undefined;
    if (length === undefined) return Buffer.alloc(0);
    if (Number(length) > this.options.replayBytes) return undefined;
    return readBody(request, this.options.replayBytes, 'forwardReplayBytes');
  }

  #hopHeaders(request: IncomingMessage, call: CallContext): Record<string, string> {
    return {
      [RELAY_HOP_HEADER]: this.#signature.sign({ clientAddress: call.clientAddress }, request.method ?? 'GET', call.pathAndQuery),
      [REQUEST_ID_HEADER]: call.requestId,
    };
  }
}

function unavailable(message: string): RelayError {
  return new RelayError('SANDBOX_UNAVAILABLE', message);
}

/** The answer to a forwarded call this relay cannot serve; the forwarding relay places the call again. */
function misdirected(response: ServerResponse): void {
  const body = JSON.stringify(unavailable('this relay does not own the sandbox').toPayload());
  response.writeHead(MISDIRECTED_STATUS, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
}

/** An upgrade answered with a plain HTTP error: a client sees a failed connection and reconnects with its backoff. */
function refuseUpgrade(socket: Duplex, error: unknown): void {
  if (socket.destroyed) return;
  const payload = toErrorPayload(error);
  const status = HTTP_STATUS_BY_CODE[payload.code];
  const body = JSON.stringify(payload);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function holdWhileOpen(socket: Duplex, hold: SandboxHold): void {
  if (socket.destroyed) return hold.release();
  socket.once('close', () => hold.release());
}
