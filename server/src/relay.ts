import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { API_PREFIX, API_ROUTES, ID_PATTERN, RELAY_HOP_HEADER, REQUEST_ID_HEADER, SESSION_RECREATED_HEADER, sandboxSegmentOf } from '@sandbox-terminal/protocol';
import { pino, type Logger } from 'pino';
import { RelayAuth } from './auth.ts';
import { RelayCluster, type CallContext } from './cluster/relay-cluster.ts';
import { clientAddress, setForwardedClientAddress } from './http/client-address.ts';
import { limitExceeded } from './errors.ts';
import { ClientRates } from './http/client-rates.ts';
import { UploadBudget } from './http/upload-budget.ts';
import { handleApiRequest, requestIdFor, type RouteContext } from './http/api-routes.ts';
import { lazyChild } from './lazy-logger.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_LIMITS, MIN_IDLE_TIMEOUT_MS, type RelayLimits } from './limits.ts';
import { RelayMetrics } from './metrics.ts';
import { SessionRegistry } from './registry/session-registry.ts';
import type { SandboxBackend } from './sandbox/backend.ts';
import { BubblewrapBackend } from './sandbox/bubblewrap.ts';
import { SandboxCgroups } from './sandbox/sandbox-cgroups.ts';
import { SandboxPool } from './sandbox/sandbox-pool.ts';
import { DEFAULT_SANDBOX_IDS, makePrivateDirectory, type SandboxIds } from './sandbox/sandbox-ids.ts';
import { processExists } from './sandbox/process-tree.ts';
import { UnisolatedBackend } from './sandbox/unisolated.ts';
import { TerminalSocketServer } from './terminal/terminal-socket-server.ts';
import { loadGuestSandboxes, type GuestOptions } from './guest/guest-options.ts';
import { GuestService } from './guest/guest-service.ts';
import { SandboxLifecycle } from './sandbox/sandbox-lifecycle.ts';
import { WorkspaceTemplates } from './sandbox/workspace-templates.ts';

export interface RelayOptions {
  /** TCP port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Idle time in ms after which a sandbox sleeps. Default 600 000; at least 1 000. */
  idleTimeoutMs?: number;
  /** Where workspaces and the SQLite session registry live. Without it: a temporary directory and an in-memory registry. */
  dataDir?: string;
  /**
   * Keeps session records in Redis (`redis://[user:pass@]host:port[/db]`) instead of memory or SQLite, and makes this
   * relay one of a group sharing it: each sandbox runs on the relay holding its lease in Redis, and any relay answers
   * any call, forwarding it to that relay (docs/deployment.md, "Several relays"). The relay checks the connection at
   * start and fails if Redis cannot be reached.
   */
  redisUrl?: string;
  /**
   * With `redisUrl`: the URL other relays reach this one at (`http://10.0.3.7:8787`). Default: the URL it listens on,
   * unless that is a wildcard address (0.0.0.0, ::), where it must be given. Keep it off the public network
   * (SECURITY.md, "Several relays").
   */
  advertiseUrl?: string;
  /** `bubblewrap`, `unisolated`, or `auto` (bubblewrap where it works, else unisolated with a warning). Or a backend object. */
  backend?: 'auto' | 'bubblewrap' | 'unisolated' | SandboxBackend;
  /**
   * Whether sandboxes reach the network: through their own network namespace and pasta (user-mode networking), with
   * the host's loopback and addresses, private and link-local ranges refused (SECURITY.md, "Network"). Off: loopback
   * only. Default true; without pasta the sandboxes run offline and the relay says so.
   */
  network?: boolean;
  /** IPv4 CIDR ranges sandboxes may reach although they are private or the host's (e.g. a package mirror). */
  networkAllow?: string[];
  /** The host uid/gid range sandboxes run under (root inside is `sandboxIds.uid` outside). Default `DEFAULT_SANDBOX_IDS`. */
  sandboxIds?: SandboxIds;
  /** Origins allowed to call the API from a browser and to open terminals. Default: any (development). */
  allowedOrigins?: string[];
  /** Enables /v1/admin/* (idle timeout, sleep now) for the demo and tests. Default false. */
  devEndpoints?: boolean;
  limits?: Partial<RelayLimits>;
  /**
   * The secret tokens are signed with (HS256, at least 32 bytes; `RELAY_SECRET`). With it every HTTP call and terminal
   * needs a token from `issueToken`; without it the relay runs in development mode: no auth, loudly logged.
   */
  secret?: string;
  /** A pino logger, or a level. Default level `info`. */
  logger?: Logger | pino.Level | 'silent';
  /** Don't listen: mount the relay on your own server with `relay.handleRequest` / `relay.handleUpgrade`. */
  listen?: boolean;
  /**
   * Workspace templates by name (`--template NAME=DIR`): `PUT /v1/sandboxes/:id` and guest grants may start a new
   * sandbox's `/workspace` as a copy of one. Read at start.
   */
  templates?: Record<string, string>;
  /**
   * Guest mode (`--guest`, needs `secret`): pages without a token get a sandbox of their own with guest limits
   * (`GuestLimits`). `true` for the defaults.
   */
  guest?: boolean | GuestOptions;
  /** Behind a reverse proxy: per-client limits use the last `X-Forwarded-For` entry. Default false. */
  trustProxy?: boolean;
}

export interface Relay {
  /** `http://host:port` once listening. */
  readonly url: string;
  readonly server: Server | undefined;
  readonly pool: SandboxPool;
  readonly backend: SandboxBackend;
  readonly logger: Logger;
  /** Prometheus metrics (served at `/metrics`); `metrics.registry` can be merged into an app's own registry. */
  readonly metrics: RelayMetrics;
  /** Handles one HTTP request (returns false when it is not a relay route, for mounting next to other routes). */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /** Handles a WebSocket upgrade (returns false when it is not a terminal URL). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  setIdleTimeout(ms: number): void;
  sleepSandbox(sandboxId: string): Promise<void>;
  /** Cuts every terminal socket (of one sandbox) as a network drop would; sessions keep running. */
  dropTerminalConnections(sandboxId?: string): number;
  /** Saves every session, stops every sandbox and the server. */
  close(): Promise<void>;
}

export async function createRelay(options: RelayOptions = {}): Promise<Relay> {
  const logger = typeof options.logger === 'object' ? options.logger : pino({ level: options.logger ?? 'info' });
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const auth = new RelayAuth(options.secret);
  const idleTimeoutMs = Math.max(MIN_IDLE_TIMEOUT_MS, options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  const sandboxIds = options.sandboxIds ?? DEFAULT_SANDBOX_IDS;
  const backend = chooseBackend(options.backend ?? 'auto', logger, sandboxIds, options.networkAllow ?? []);
  const ids = backend.ids;
  if (!(backend instanceof BubblewrapBackend && SandboxCgroups.available())) {
    logger.warn({ backend: backend.name }, 'sandbox process and memory limits are NOT enforced (they need the bubblewrap backend and cgroup v1 pids/memory hierarchies)');
  }
  if (backend instanceof BubblewrapBackend) {
    for (const change of backend.hostChanges) logger.info(change);
    if ((options.network ?? true) && backend.networkUnavailable) logger.warn({ reason: backend.networkUnavailable }, 'sandboxes run OFFLINE (network on needs pasta)');
    const stale = SandboxCgroups.available() ? SandboxCgroups.removeStale() : 0;
    if (stale) logger.info({ relays: stale }, 'removed the cgroups of relays that were killed');
  }
  removeStaleRuntimeDirs(logger);
  const trustProxy = options.trustProxy ?? false;
  const networkMode = !(options.network ?? true) ? 'off' : !backend.isolated ? 'host (not isolated)' : backend instanceof BubblewrapBackend && backend.networkUnavailable ? 'off (pasta unavailable)' : 'on';
  const dataDir = options.dataDir ? resolve(options.dataDir) : mkdtempSync(join(tmpdir(), 'sandbox-terminal-data-'));
  const templates = await WorkspaceTemplates.load(options.templates);
  const guestSandboxes = await loadGuestSandboxes(options.guest, auth, dataDir, limits, templates, logger);
  const runtimeDir = mkdtempSync(join(tmpdir(), `${RUNTIME_DIR_PREFIX}${process.pid}-`));
  // Only root passes through these: other host users never reach a workspace or a session's FIFOs.
  makePrivateDirectory(join(dataDir, 'sandboxes'));
  makePrivateDirectory(dataDir);
  makePrivateDirectory(runtimeDir);
  const registry = new SessionRegistry({ ...(options.dataDir ? { dataDir } : {}), ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}), ttlMs: limits.sessionRecordTtlMs });
  try {
    await registry.check();
  } catch (error) {
    rmSync(runtimeDir, { recursive: true, force: true });
    await registry.close().catch(() => undefined);
    throw error;
  }
  let cluster: RelayCluster | undefined;
  const metrics: RelayMetrics = new RelayMetrics(() => pool.runtimes(), () => cluster?.owned ?? 0);
  if (options.redisUrl) {
    try {
      checkAdvertisable(options);
      cluster = await RelayCluster.connect(
        { redisUrl: options.redisUrl, leaseMs: limits.sandboxLeaseMs, replayBytes: limits.forwardReplayBytes, holderMemoryMs: limits.sessionRecordTtlMs, drainMs: limits.drainTimeoutMs, log: logger, metrics },
        { forget: (id) => pool.forget(id), abandon: (id) => pool.abandon(id) },
      );
    } catch (error) {
      rmSync(runtimeDir, { recursive: true, force: true });
      await registry.close().catch(() => undefined);
      throw error;
    }
  }
  const ownership = cluster?.runtimeOwnership();
  const pool = new SandboxPool({
    backend, dataDir, runtimeDir, ...(ids ? { ids } : {}), network: options.network ?? true, idleTimeoutMs, limits, registry, log: logger, observer: metrics,
    settingsFor: (id) => guestSandboxes?.settingsFor(id), ...(ownership ? { ownership } : {}),
  });
  const lifecycle = new SandboxLifecycle(pool, templates, logger);
  const guests = guestSandboxes && new GuestService(guestSandboxes, lifecycle, auth, logger);
  const terminals = new TerminalSocketServer(pool, limits, logger, metrics, auth);
  const allowedOrigins = options.allowedOrigins;
  const context: RouteContext = {
    pool,
    limits,
    devEndpoints: options.devEndpoints ?? false,
    metrics,
    auth,
    uploads: new UploadBudget(limits.uploadBytesInFlight, limits.uploadBytesInFlightPerClient),
    lifecycle,
    guests,
    trustProxy,
    health: () => ({
      // A draining relay answers 503, so a balancer's health check takes it out while it saves its sessions.
      ok: !cluster?.draining,
      backend: backend.name,
      isolated: backend.isolated,
      // What sandbox code can reach: its own loopback only, or the internet through pasta (SECURITY.md, "Network").
      network: networkMode,
      idleTimeoutMs: pool.idleTimeoutMs,
      sandboxes: pool.runtimes().length,
      running: pool.runtimes().filter((runtime) => runtime.running).length,
      guest: guests !== undefined,
      templates: templates.names,
      ...(cluster ? { owned: cluster.owned, draining: cluster.draining } : {}),
    }),
  };

  const originAllowed = (origin: string | undefined) => !origin || !allowedOrigins || allowedOrigins.includes(origin);
  const clientRates = new ClientRates(limits.httpRequestsPerSecond);

  const handleRequest = (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://relay');
    if (!url.pathname.startsWith(API_PREFIX) && url.pathname !== API_ROUTES.health && url.pathname !== API_ROUTES.metrics) return false;
    const requestId = requestIdFor(request);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    const log = lazyChild(logger, { requestId });
    const origin = request.headers.origin;
    if (origin && originAllowed(origin)) {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('vary', 'Origin');
      response.setHeader('access-control-expose-headers', `${SESSION_RECREATED_HEADER}, ${REQUEST_ID_HEADER}`);
    }
    if (request.method === 'OPTIONS') {
      response.setHeader('access-control-allow-methods', 'GET, POST, PUT, DELETE, OPTIONS');
      response.setHeader('access-control-allow-headers', `content-type, authorization, ${REQUEST_ID_HEADER}`);
      response.setHeader('access-control-max-age', '600');
      response.writeHead(originAllowed(origin) ? 204 : 403).end();
      log.debug({ method: request.method, route: 'CORS preflight', status: response.statusCode, origin }, 'http request');
      return true;
    }
    if (!originAllowed(origin)) {
      response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'FORBIDDEN', message: `origin ${origin} is not allowed` }));
      log.debug({ method: request.method, route: 'origin refused', status: 403, origin }, 'http request');
      return true;
    }
    const pathAndQuery = url.pathname + url.search;
    // Only another relay of the group may vouch for a caller: the call was rate-limited there, and is not forwarded again.
    const hop = cluster?.acceptHop(request, pathAndQuery);
    delete request.headers[RELAY_HOP_HEADER];
    if (hop) setForwardedClientAddress(request, hop.clientAddress);
    if (url.pathname.startsWith(API_PREFIX) && !hop && !clientRates.take(clientAddress(request, trustProxy))) {
      const limit = limits.httpRequestsPerSecond;
      const body = limitExceeded('httpRequestsPerSecond', limit, `more than ${limit} requests a second from this address`).toPayload();
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify(body));
      log.debug({ method: request.method, route: 'rate limited', status: 429 }, 'http request');
      return true;
    }
    const sandboxId = cluster && sandboxIdOf(url.pathname);
    if (cluster && sandboxId) {
      const call: CallContext = { sandboxId, pathAndQuery, requestId, clientAddress: clientAddress(request, trustProxy), hop };
      void cluster.serveHttp(request, response, call, (served) => handleApiRequest(context, served, response, log));
      return true;
    }
    void handleApiRequest(context, request, response, log, url);
    return true;
  };

  const handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = new URL(request.url ?? '/', 'http://relay');
    if (!terminals.matches(url)) return false;
    if (!originAllowed(request.headers.origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return true;
    }
    const sandboxId = cluster && sandboxIdOf(url.pathname);
    if (cluster && sandboxId) {
      const pathAndQuery = url.pathname + url.search;
      const hop = cluster.acceptHop(request, pathAndQuery);
      const call: CallContext = { sandboxId, pathAndQuery, requestId: requestIdFor(request), clientAddress: hop?.clientAddress ?? clientAddress(request, trustProxy), hop };
      void cluster.serveUpgrade(request, socket, head, call, () => terminals.handleUpgrade(request, socket, head, url));
      return true;
    }
    delete request.headers[RELAY_HOP_HEADER];
    terminals.handleUpgrade(request, socket, head, url);
    return true;
  };

  let server: Server | undefined;
  let url = '';
  if (options.listen !== false) {
    server = createServer((request, response) => {
      if (!handleRequest(request, response)) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'not found' }));
      }
    });
    server.on('upgrade', (request, socket, head) => {
      if (!handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolveListen, reject) => {
      server!.once('error', reject);
      server!.listen(options.port ?? 8787, host, () => resolveListen());
    });
    const address = server.address() as AddressInfo;
    url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    cluster?.advertise(options.advertiseUrl ?? url);
    logger.info({ url, backend: backend.name, isolated: backend.isolated, dataDir, registry: registry.kind, idleTimeoutMs, auth: auth.enabled }, 'relay listening');
  }
  if (cluster && options.listen === false) cluster.advertise(options.advertiseUrl!);
  // With several relays, a relay that dies leaves a screen behind for the relay that takes over (screenCheckpointMs).
  const checkpoints = cluster && limits.screenCheckpointMs > 0 ? setInterval(() => void pool.checkpointScreens(), limits.screenCheckpointMs) : undefined;
  checkpoints?.unref();
  if (!auth.enabled) {
    logger.warn(
      { host: options.listen === false ? 'mounted' : (options.host ?? '127.0.0.1') },
      'DEVELOPMENT MODE: no secret is set (--secret-file / RELAY_SECRET_FILE / RELAY_SECRET), so ANYONE who reaches this relay gets a shell; set a secret before exposing it beyond loopback',
    );
  }

  return {
    url,
    server,
    pool,
    backend,
    logger,
    metrics,
    handleRequest,
    handleUpgrade,
    setIdleTimeout: (ms) => pool.setIdleTimeout(Math.max(MIN_IDLE_TIMEOUT_MS, ms)),
    sleepSandbox: (sandboxId) => pool.sleepSandbox(sandboxId),
    dropTerminalConnections: (sandboxId) => terminals.dropConnections(sandboxId),
    async close() {
      guests?.close();
      clearInterval(checkpoints);
      // Several relays: calls already running finish (new ones go elsewhere) before the sessions are saved.
      await cluster?.drain(limits.drainTimeoutMs);
      terminals.close();
      await pool.close();
      await cluster?.close();
      await registry.close();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolveClose) => server!.close(() => resolveClose()));
      }
      rmSync(runtimeDir, { recursive: true, force: true });
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The sandbox a call is for, when its path is sandbox-scoped and names a valid id (others are answered here). */
function sandboxIdOf(pathname: string): string | undefined {
  const segment = sandboxSegmentOf(pathname);
  if (segment === undefined) return undefined;
  try {
    const id = decodeURIComponent(segment);
    return ID_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** With Redis, other relays must be able to reach this one: at an address it can name. */
function checkAdvertisable(options: RelayOptions): void {
  if (options.advertiseUrl !== undefined) {
    if (!/^http:\/\/[^\s/]+\/?$/.test(options.advertiseUrl) || !URL.canParse(options.advertiseUrl)) {
      throw new Error(`the advertise URL must be http://host:port (the hop between relays is plain HTTP on their private network), not ${JSON.stringify(options.advertiseUrl)}`);
    }
    return;
  }
  if (options.listen === false) throw new Error('a mounted relay sharing Redis needs advertiseUrl: the URL other relays reach it at');
  const host = options.host ?? '127.0.0.1';
  if (host === '0.0.0.0' || host === '::' || host === '') {
    throw new Error(`the relay listens on all interfaces (${host}) and shares Redis: give --advertise-url, the URL other relays reach it at`);
  }
}

/** `sandbox-terminal-run-<pid>-XXXXXX` in the temporary directory: one relay process's control files. */
const RUNTIME_DIR_PREFIX = 'sandbox-terminal-run-';

/** Removes the runtime directories of relays that no longer run (a `kill -9` leaves them). */
function removeStaleRuntimeDirs(logger: Logger): void {
  for (const entry of readdirSync(tmpdir())) {
    const pid = Number(/^sandbox-terminal-run-(\d+)-/.exec(entry)?.[1]);
    if (!pid || pid === process.pid || processExists(pid)) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    logger.debug({ dir: entry }, 'removed the runtime directory of a relay that was killed');
  }
}

function chooseBackend(choice: NonNullable<RelayOptions['backend']>, logger: Logger, ids: SandboxIds, networkAllow: string[]): SandboxBackend {
  if (typeof choice === 'object') return choice;
  if (choice === 'unisolated') {
    logger.warn('sandboxes are NOT isolated (backend "unisolated"): shells run on the host as the relay user');
    return new UnisolatedBackend();
  }
  const probe = BubblewrapBackend.probe(ids);
  if (probe.ok) return new BubblewrapBackend({ ids, network: { allow: networkAllow } });
  if (choice === 'bubblewrap') throw new Error(`the bubblewrap backend cannot run here: ${probe.reason}`);
  logger.warn({ reason: probe.reason }, 'bubblewrap is unavailable: sandboxes are NOT isolated (fallback backend "unisolated"); install bubblewrap and run as root for isolation');
  return new UnisolatedBackend();
}
