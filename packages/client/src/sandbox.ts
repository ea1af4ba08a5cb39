import {
  apiPaths,
  TERMINAL_SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  type CreateSandboxResponse,
  type CreateSessionRequest,
  type CreateSessionResponse,
  type ExecRequest,
  type ExecResult,
  type ExecStreamEvent,
  type ExistsResponse,
  type FileEntry,
  type ListFilesResponse,
  type SessionInfo,
  type SessionListResponse,
} from '@sandbox-terminal/protocol';
import { defaultTransport } from '#default-transport';
import { SandboxError } from './errors.ts';
import { fetchTransport } from './fetch-transport.ts';
import { readNdjson } from './ndjson.ts';
import type { Transport, TransportResponse } from './transport.ts';

export interface SandboxOptions {
  /** Sent as a bearer token on every call. */
  token?: string;
  /**
   * Called for a token before every HTTP call and every terminal (re)connection, so short-lived tokens keep working:
   * cache in it what can be cached. Takes precedence over `token`. A rejection fails that call (or that connection
   * attempt, which is retried).
   */
  getToken?: () => string | Promise<string>;
  /**
   * Makes every HTTP call through this `fetch` (tests, proxies, custom agents). Without it the SDK uses node:http's
   * global agent in Node, and the global `fetch` elsewhere.
   */
  fetch?: typeof fetch;
}

/** `createSession` options: the request body as the relay validates it. */
export type CreateSessionOptions = CreateSessionRequest;
export type ExecOptions = Omit<ExecRequest, 'command'> & {
  /** Aborts the HTTP request; the relay then kills the command as on a timeout. */
  signal?: AbortSignal;
};

export interface ReadFileOptions {
  /** `utf-8` (default) returns a string; `binary` returns the raw bytes. */
  encoding?: 'utf-8' | 'utf8' | 'binary';
}

export interface TerminalUrlOptions {
  cols?: number;
  rows?: number;
}

/**
 * One sandbox on a relay, addressed by an id the caller chooses; it starts on first use.
 * Every method is a single HTTP call; errors are thrown as `SandboxError` with the relay's code.
 */
export class Sandbox {
  readonly relayUrl: string;
  readonly id: string;
  readonly #token: string | undefined;
  readonly #getToken: (() => string | Promise<string>) | undefined;
  readonly #transport: Transport;

  constructor(relayUrl: string, id: string, options: SandboxOptions = {}) {
    this.relayUrl = relayUrl.replace(/\/+$/, '');
    this.id = id;
    this.#token = options.token;
    this.#getToken = options.getToken;
    this.#transport = options.fetch ? fetchTransport(options.fetch) : defaultTransport;
  }

  /**
   * Prepares the sandbox; with `template`, starts its `/workspace` as a copy of that relay template (`--template`)
   * unless it already has files (`SANDBOX_EXISTS`) or came from that template before (`created: false`).
   */
  async create(options: { template?: string } = {}): Promise<CreateSandboxResponse> {
    return this.#json<CreateSandboxResponse>('PUT', apiPaths.sandbox(this.id), options);
  }

  /**
   * Deletes the sandbox: every session ends (viewers see it deleted), its processes stop, its `/workspace` is removed.
   * The id can be used again at once, for an empty sandbox (a reset). Needs the `owner` scope.
   */
  async delete(): Promise<void> {
    await this.#bytes('DELETE', apiPaths.sandbox(this.id));
  }

  /** Starts a new bash session and resolves to its id (a UUID unless `id` is given). */
  async createSession(options: CreateSessionOptions = {}): Promise<string> {
    const response = await this.#json<CreateSessionResponse>('POST', apiPaths.sessions(this.id), options);
    return response.id;
  }

  /** Runs a command and resolves when it has finished; see `ExecResult`. */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, ...rest } = options;
    return this.#json<ExecResult>('POST', apiPaths.exec(this.id), { ...rest, command }, signal);
  }

  /**
   * Runs a command and yields `start`, `stdout`, `stderr` and `exit` (or `error`) events as they happen. Leaving the
   * loop early closes the request, and the relay then stops the command as on a timeout.
   */
  async *execStream(command: string, options: ExecOptions = {}): AsyncGenerator<ExecStreamEvent> {
    const { signal, ...rest } = options;
    const response = await this.#send('POST', apiPaths.execStream(this.id), JSON.stringify({ ...rest, command }), signal, 'application/json');
    for await (const event of readNdjson(response.chunks())) yield event as ExecStreamEvent;
  }

  async listSessions(): Promise<SessionInfo[]> {
    return (await this.#json<SessionListResponse>('GET', apiPaths.sessions(this.id))).sessions;
  }

  /** The session's status (`active`, `sleeping` or `exited`); throws `SESSION_NOT_FOUND` for an unknown id. */
  async getSession(sessionId: string): Promise<SessionInfo> {
    return this.#json<SessionInfo>('GET', apiPaths.session(this.id, sessionId));
  }

  /** True when the id names a session that can run commands now or after being recreated (not exited, not unknown). */
  async isSessionValid(sessionId: string): Promise<boolean> {
    try {
      const info = await this.getSession(sessionId);
      return info.status !== 'exited';
    } catch (error) {
      if (error instanceof SandboxError && (error.code === 'SESSION_NOT_FOUND' || error.code === 'BAD_REQUEST')) return false;
      throw error;
    }
  }

  /** Ends the session's shell and forgets the id. */
  async deleteSession(sessionId: string): Promise<void> {
    await this.#bytes('DELETE', apiPaths.session(this.id, sessionId));
  }

  /** Starts a new shell under the same id after the old one exited (or replaces a running one). */
  async restartSession(sessionId: string): Promise<SessionInfo> {
    return this.#json<SessionInfo>('POST', apiPaths.restart(this.id, sessionId), {});
  }

  /** Writes a file under /workspace (parent directories are created). */
  async writeFile(path: string, content: string | Uint8Array | ArrayBuffer): Promise<void> {
    const body = typeof content === 'string' ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content);
    await this.#bytes('PUT', withPath(apiPaths.files(this.id), path), body, undefined, 'application/octet-stream');
  }

  readFile(path: string, options?: { encoding?: 'utf-8' | 'utf8' }): Promise<string>;
  readFile(path: string, options: { encoding: 'binary' }): Promise<Uint8Array>;
  async readFile(path: string, options: ReadFileOptions = {}): Promise<string | Uint8Array> {
    const bytes = await this.#bytes('GET', withPath(apiPaths.files(this.id), path));
    return options.encoding === 'binary' ? bytes : utf8.decode(bytes);
  }

  async mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.#json('POST', apiPaths.mkdir(this.id), { path, recursive: options.recursive ?? false });
  }

  /** Deletes a file or symlink; a directory with `recursive` (never following a symlink out of it). */
  async deleteFile(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    const target = withPath(apiPaths.files(this.id), path);
    await this.#bytes('DELETE', options.recursive ? `${target}&recursive=true` : target);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.#json<ExistsResponse>('GET', withPath(apiPaths.exists(this.id), path))).exists;
  }

  async listFiles(path: string): Promise<FileEntry[]> {
    return (await this.#json<ListFilesResponse>('GET', withPath(apiPaths.list(this.id), path))).entries;
  }

  /** The WebSocket URL of a session's terminal (ws: or wss: to match the relay URL). */
  terminalUrl(sessionId: string, options: TerminalUrlOptions = {}): string {
    const url = new URL(apiPaths.terminal(this.id, sessionId), this.relayUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (options.cols) url.searchParams.set('cols', String(options.cols));
    if (options.rows) url.searchParams.set('rows', String(options.rows));
    return url.toString();
  }

  /**
   * Subprotocols a terminal WebSocket should offer: the protocol version and, with a token, `bearer.<token>` (a
   * browser cannot set headers on a WebSocket, and a token in the URL would end up in logs). The relay selects only
   * the version.
   */
  async terminalProtocols(): Promise<string[]> {
    const token = await this.#currentToken();
    return token ? [TERMINAL_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + token] : [TERMINAL_SUBPROTOCOL];
  }

  /** True when every connection asks `getToken` anew: a refused (expired) token is worth retrying with. */
  get refreshesToken(): boolean {
    return this.#getToken !== undefined;
  }

  async #currentToken(): Promise<string | undefined> {
    return this.#getToken ? await this.#getToken() : this.#token;
  }

  async #json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const bytes = await this.#bytes(method, path, body === undefined ? undefined : JSON.stringify(body), signal, 'application/json');
    return JSON.parse(utf8.decode(bytes)) as T;
  }

  /** The whole body of a successful call (always read, so node:http can reuse the connection). */
  async #bytes(method: string, path: string, body?: string | Uint8Array, signal?: AbortSignal, contentType?: string): Promise<Uint8Array> {
    return (await this.#send(method, path, body, signal, contentType)).bytes();
  }

  /** Makes the call; a refusal is thrown as the relay's `SandboxError`. */
  async #send(method: string, path: string, body?: string | Uint8Array, signal?: AbortSignal, contentType?: string): Promise<TransportResponse> {
    const headers: Record<string, string> = {};
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    const token = await this.#currentToken();
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await this.#transport({ method, url: this.relayUrl + path, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) });
    if (response.status < 200 || response.status > 299) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(utf8.decode(await response.bytes()));
      } catch {
        // not JSON: reported by status below
      }
      throw SandboxError.fromBody(parsed, response.status);
    }
    return response;
  }
}

const utf8 = new TextDecoder();

function withPath(base: string, path: string): string {
  return `${base}?path=${encodeURIComponent(path)}`;
}

/** The sandbox `id` on the relay at `relayUrl`; nothing is sent until the first call. */
export function getSandbox(relayUrl: string, id: string, options: SandboxOptions = {}): Sandbox {
  return new Sandbox(relayUrl, id, options);
}
