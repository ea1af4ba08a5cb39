import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  API_ROUTES,
  REQUEST_ID_HEADER,
  createSessionRequest,
  execRequest,
  mkdirRequest,
  SESSION_RECREATED_HEADER,
  type ExecRequest,
  type ExecResult,
  type ExecStreamEvent,
  type TokenScope,
  type SandboxLimitName,
} from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Grant, RelayAuth } from '../auth.ts';
import { RelayError, limitExceeded, toErrorPayload } from '../errors.ts';
import { runOneShot } from '../exec/one-shot-exec.ts';
import { checkEnvLimits } from '../session/env-limits.ts';
import type { RelayLimits } from '../limits.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { SandboxPool } from '../sandbox/sandbox-pool.ts';
import type { SandboxRuntime } from '../sandbox/sandbox-runtime.ts';
import { sendError, sendJson } from './http-io.ts';
import { readJson } from './json-body.ts';
import { decodePathSegment, routePattern } from './route-pattern.ts';
import type { UploadBudget } from './upload-budget.ts';
import { clientAddress } from './client-address.ts';
import type { GuestService } from '../guest/guest-service.ts';
import type { SandboxLifecycle } from '../sandbox/sandbox-lifecycle.ts';
import { registerGuestRoutes } from './guest-routes.ts';
import { registerSandboxRoutes } from './sandbox-routes.ts';

function jsonLimits(ctx: RouteContext): { bytes: number; values: number } {
  return { bytes: ctx.limits.jsonBodyBytes, values: ctx.limits.jsonBodyValues };
}

export interface RouteContext {
  pool: SandboxPool;
  limits: RelayLimits;
  /** Extra endpoints for the demo and tests (idle timeout, sleep now); off unless configured. */
  devEndpoints: boolean;
  health: () => Record<string, unknown>;
  metrics: RelayMetrics;
  auth: RelayAuth;
  /** writeFile bodies being streamed to disk (`uploadBytesInFlight`, `uploadBytesInFlightPerClient`). */
  uploads: UploadBudget;
  /** Whole-sandbox calls: prepare from a template, delete (sandbox-routes.ts). */
  lifecycle: SandboxLifecycle;
  /** Guest mode (guest-routes.ts); undefined unless the relay runs with `--guest`. */
  guests: GuestService | undefined;
  /** Client addresses come from `X-Forwarded-For` (see client-address.ts). */
  trustProxy: boolean;
}

type Handler = (ctx: RouteContext, request: IncomingMessage, response: ServerResponse, params: string[], url: URL, log: Logger, grant: Grant) => Promise<void>;

/**
 * Who may call a route when the relay has a secret: a token scope for the sandbox (and session) in its path,
 * `public` for probes that name no sandbox, `relay` for relay-wide development endpoints no sandbox token may call.
 */
type Access = TokenScope | 'public' | 'relay';

const routes: Array<{ method: string; path: string; access: Access; pattern: RegExp; handler: Handler }> = [];
/** `path` is a template from the protocol's `API_ROUTES`, the same one the client fills in. */
function route(method: string, path: string, access: Access, handler: Handler): void {
  routes.push({ method, path, access, pattern: routePattern(path), handler });
}
/** How route modules beside this one (sandbox-routes.ts, guest-routes.ts) add theirs. */
export type RouteRegistrar = typeof route;

/** The boundary check: verifies the bearer token and that it covers the route's sandbox, session and scope. */
async function authorize(ctx: RouteContext, request: IncomingMessage, access: Access, params: string[]): Promise<Grant> {
  if (access === 'public') return new Grant(undefined);
  const grant = await ctx.auth.verify(RelayAuth.httpToken(request));
  if (access === 'relay') {
    if (ctx.auth.enabled) throw new RelayError('FORBIDDEN', 'relay-wide endpoints are off while the relay requires tokens');
    return grant;
  }
  grant.require({ sandbox: params[0]!, session: params[1], scope: access });
  return grant;
}

/** An incoming id (from a proxy or the caller) is kept only if it is short and plain, as it goes into every log line. */
const REQUEST_ID_PATTERN = /^[\w.:+=/@-]{1,128}$/;

/** The caller's `x-request-id` when it is sane, so one id follows a call across services; otherwise a new one. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
}

/**
 * Dispatches one HTTP request; answers 404 NOT_FOUND for anything unknown. Never throws. `requestLog` carries the
 * request id; `parsedUrl` is the request's URL when the caller has parsed it already.
 */
export async function handleApiRequest(ctx: RouteContext, request: IncomingMessage, response: ServerResponse, requestLog: Logger, parsedUrl?: URL): Promise<void> {
  const startedAt = performance.now();
  let routeName = 'unmatched';
  let log = requestLog;
  // One debug line per request once its response is done; `route` is the pattern, so the ids stay out of it.
  response.once('close', () => {
    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    log.debug({ method: request.method, route: routeName, status: response.statusCode, durationMs, ...(response.writableFinished ? {} : { aborted: true }) }, 'http request');
  });
  try {
    const url = parsedUrl ?? new URL(request.url ?? '/', 'http://relay');
    // Read once: URL's pathname getter builds a new string at every read, and the loop tries routes in turn.
    const path = url.pathname;
    for (const candidate of routes) {
      const match = candidate.pattern.exec(path);
      if (!match) continue;
      if (candidate.method !== request.method) continue;
      const params = match.slice(1).map(decodePathSegment);
      routeName = `${candidate.method} ${candidate.path}`;
      // Path ids on every line about this request: the first is a sandbox, the second a session.
      if (params[0] !== undefined) log = requestLog.child(params[1] !== undefined ? { sandbox: params[0], session: params[1] } : { sandbox: params[0] });
      const grant = await authorize(ctx, request, candidate.access, params);
      await candidate.handler(ctx, request, response, params, url, log, grant);
      return;
    }
    throw new RelayError('NOT_FOUND', `no route for ${request.method} ${path}`);
  } catch (error) {
    logInternal(log, error);
    sendError(response, error);
  }
}

/** INTERNAL is a bug: log it with its stack. Every other code is the caller's business and goes back to them. */
function logInternal(log: Logger, error: unknown): void {
  if (toErrorPayload(error).code === 'INTERNAL') log.error({ err: error }, 'request failed');
}

route('GET', API_ROUTES.health, 'public', async (ctx, _request, response) => {
  const health = ctx.health();
  sendJson(response, health.ok === false ? 503 : 200, health);
});

route('GET', API_ROUTES.metrics, 'public', async (ctx, _request, response) => {
  const text = await ctx.metrics.render();
  response.writeHead(200, { 'content-type': ctx.metrics.contentType, 'cache-control': 'no-store' }).end(text);
});

// ------------------------------------------------------------------ sessions

route('POST', API_ROUTES.sessions, 'admin', async (ctx, request, response, [sandboxId], _url, _log, grant) => {
  const body = await readJson(request, createSessionRequest, jsonLimits(ctx));
  checkEnvLimits(body.env, ctx.limits);
  if (body.id === undefined) grant.requireAnySession();
  else grant.require({ sandbox: sandboxId!, session: body.id, scope: 'admin' });
  const session = await ctx.pool.createSession(sandboxId!, body);
  sendJson(response, 201, { id: session.id, session: session.info() });
});

route('GET', API_ROUTES.sessions, 'read', async (ctx, _request, response, [sandboxId], _url, _log, grant) => {
  // A token for some sessions lists those only: the others' ids, cwd and times are not its business.
  const sessions = (await ctx.pool.listSessions(sandboxId!)).filter((session) => grant.coversSession(session.id));
  sendJson(response, 200, { sessions });
});

route('GET', API_ROUTES.session, 'read', async (ctx, _request, response, [sandboxId, sessionId]) => {
  sendJson(response, 200, (await ctx.pool.findSession(sandboxId!, sessionId!, { touch: false })).info());
});

route('DELETE', API_ROUTES.session, 'admin', async (ctx, _request, response, [sandboxId, sessionId]) => {
  await ctx.pool.deleteSession(sandboxId!, sessionId!);
  response.writeHead(204).end();
});

route('POST', API_ROUTES.restart, 'admin', async (ctx, _request, response, [sandboxId, sessionId]) => {
  const session = await ctx.pool.findSession(sandboxId!, sessionId!);
  await session.restart();
  sendJson(response, 200, session.info());
});

// ------------------------------------------------------------------ exec

/** Runs an exec and times it for the metrics (from request to result, queueing and waking included). */
async function startExec(ctx: RouteContext, sandboxId: string, body: ExecRequest, onEvent: ((event: ExecStreamEvent) => void) | undefined, response: ServerResponse, grant: Grant): Promise<ExecResult> {
  if (body.session === undefined) grant.requireAnySession();
  else grant.require({ sandbox: sandboxId, session: body.session, scope: 'write' });
  const finished = ctx.metrics.execStarted(body.session ? 'session' : 'one_shot');
  try {
    const runtime = ctx.pool.sandbox(sandboxId);
    const instanceBefore = runtime.instance;
    const eventsBefore = instanceBefore?.limitEvents?.();
    const result = await runExec(ctx, runtime, body, onEvent, response);
    finished(result);
    // A sandbox started (or restarted) for this exec has fresh counters: everything on them happened meanwhile.
    const limitsHit = limitsHitSince(runtime.instance === instanceBefore ? eventsBefore : undefined, runtime.instance?.limitEvents?.());
    return limitsHit.length ? { ...result, limitsHit } : result;
  } catch (error) {
    finished();
    throw error;
  }
}

function limitsHitSince(before: Record<SandboxLimitName, number> | undefined, after: Record<SandboxLimitName, number> | undefined): SandboxLimitName[] {
  if (!after) return [];
  return (Object.keys(after) as SandboxLimitName[]).filter((limit) => after[limit] > (before?.[limit] ?? 0));
}

async function runExec(ctx: RouteContext, runtime: SandboxRuntime, body: ExecRequest, onEvent: ((event: ExecStreamEvent) => void) | undefined, response: ServerResponse): Promise<ExecResult> {
  if (Buffer.byteLength(body.command) > ctx.limits.commandBytes) {
    throw limitExceeded('commandBytes', ctx.limits.commandBytes, `command is longer than ${ctx.limits.commandBytes} bytes`);
  }
  checkEnvLimits(body.env, ctx.limits);
  const request = {
    command: body.command,
    ...(body.cwd !== undefined ? { cwd: body.cwd } : {}),
    ...(body.env ? { env: body.env } : {}),
    ...(body.timeout ? { timeoutMs: body.timeout } : {}),
    ...(body.stdin !== undefined ? { stdin: body.stdin } : {}),
    ...(onEvent ? { onEvent } : {}),
  };
  // The caller went away before the end: stop the command as a timeout would, so a session is free again.
  const abort = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  if (!body.session) return runOneShot(runtime, { ...request, signal: abort.signal });
  const session = await ctx.pool.findSession(runtime.id, body.session);
  return session.exec({ ...request, signal: abort.signal });
}

route('POST', API_ROUTES.exec, 'write', async (ctx, request, response, [sandboxId], _url, _log, grant) => {
  const body = await readJson(request, execRequest, jsonLimits(ctx));
  const result = await startExec(ctx, sandboxId!, body, undefined, response, grant);
  if (result.sessionRecreated) response.setHeader(SESSION_RECREATED_HEADER, 'true');
  sendJson(response, 200, result);
});

route('POST', API_ROUTES.execStream, 'write', async (ctx, request, response, [sandboxId], _url, log, grant) => {
  const body = await readJson(request, execRequest, jsonLimits(ctx));
  const send = (event: ExecStreamEvent) => {
    if (!response.headersSent) response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    response.write(`${JSON.stringify(event)}\n`);
  };
  try {
    await startExec(ctx, sandboxId!, body, send, response, grant);
  } catch (error) {
    if (!response.headersSent) throw error;
    logInternal(log, error);
    const payload = toErrorPayload(error);
    send({ type: 'error', code: payload.code, message: payload.message });
  }
  response.end();
});

// ------------------------------------------------------------------ files

function pathParam(url: URL): string {
  const path = url.searchParams.get('path');
  if (path === null) throw new RelayError('BAD_REQUEST', 'the path query parameter is required');
  return path;
}

// The body streams into a temporary file beside the target, renamed into place once complete (see WorkspaceFiles).
route('PUT', API_ROUTES.files, 'write', async (ctx, request, response, [sandboxId], url) => {
  const path = pathParam(url);
  const limit = ctx.limits.fileBytes;
  const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
  if (declared !== undefined && declared > limit) {
    request.resume();
    throw limitExceeded('fileBytes', limit, `request body of ${declared} bytes is over the ${limit}-byte limit`);
  }
  const release = ctx.uploads.reserve(clientAddress(request, ctx.trustProxy), declared ?? limit);
  try {
    await ctx.pool.sandbox(sandboxId!).files.writeStream(path, request);
  } catch (error) {
    // What the client still sends is read and dropped, so it gets the error instead of a reset connection.
    request.resume();
    throw error;
  } finally {
    release();
  }
  response.writeHead(204).end();
});

route('GET', API_ROUTES.files, 'read', async (ctx, _request, response, [sandboxId], url) => {
  const { size, stream } = await ctx.pool.sandbox(sandboxId!).files.openRead(pathParam(url));
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  await pipeline(stream, response);
});

route('DELETE', API_ROUTES.files, 'write', async (ctx, _request, response, [sandboxId], url) => {
  await ctx.pool.sandbox(sandboxId!).files.delete(pathParam(url), url.searchParams.get('recursive') === 'true');
  response.writeHead(204).end();
});

route('GET', API_ROUTES.list, 'read', async (ctx, _request, response, [sandboxId], url) => {
  const path = pathParam(url);
  sendJson(response, 200, { path, entries: await ctx.pool.sandbox(sandboxId!).files.list(path) });
});

route('GET', API_ROUTES.exists, 'read', async (ctx, _request, response, [sandboxId], url) => {
  sendJson(response, 200, { exists: await ctx.pool.sandbox(sandboxId!).files.exists(pathParam(url)) });
});

route('POST', API_ROUTES.mkdir, 'write', async (ctx, request, response, [sandboxId]) => {
  const body = await readJson(request, mkdirRequest, jsonLimits(ctx));
  await ctx.pool.sandbox(sandboxId!).files.mkdir(body.path, body.recursive ?? false);
  sendJson(response, 200, { path: body.path });
});

// ------------------------------------------------------------------ development endpoints

const idleTimeoutRequest = z.object({ ms: z.number().int().min(1000).max(86_400_000) }).strict();

route('POST', API_ROUTES.adminIdleTimeout, 'relay', async (ctx, request, response) => {
  if (!ctx.devEndpoints) throw new RelayError('NOT_FOUND', 'development endpoints are off');
  const body = await readJson(request, idleTimeoutRequest, jsonLimits(ctx));
  ctx.pool.setIdleTimeout(body.ms);
  sendJson(response, 200, { idleTimeoutMs: ctx.pool.idleTimeoutMs });
});

route('POST', API_ROUTES.adminSleep, 'admin', async (ctx, _request, response, [sandboxId]) => {
  if (!ctx.devEndpoints) throw new RelayError('NOT_FOUND', 'development endpoints are off');
  await ctx.pool.sleepSandbox(sandboxId!, 'requested through the admin endpoint');
  response.writeHead(204).end();
});

registerSandboxRoutes(route);
registerGuestRoutes(route);
