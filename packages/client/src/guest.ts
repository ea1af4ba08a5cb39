import { apiPaths, type GuestGrant, type GuestTokenResponse } from '@sandbox-terminal/protocol';
import { defaultTransport } from '#default-transport';
import { SandboxError } from './errors.ts';
import { fetchTransport } from './fetch-transport.ts';
import { getSandbox, type Sandbox } from './sandbox.ts';
import type { Transport } from './transport.ts';

/** An access token is renewed this long before it expires, so a call never leaves with one about to lapse. */
export const GUEST_TOKEN_RENEW_MARGIN_MS = 60_000;

/** What a page keeps about its guest sandbox between visits (see `GuestStore`). */
export interface GuestCredentials extends GuestGrant {
  relayUrl: string;
}

/** Where `GuestAccess` keeps the credentials (a page: localStorage; a test: memory). */
export interface GuestStore {
  load(): GuestCredentials | undefined;
  save(credentials: GuestCredentials): void;
  clear(): void;
}

export interface GuestAccessOptions {
  /** Start a new guest sandbox from this relay template. */
  template?: string;
  /** Keeps the credentials so a reload returns to the same sandbox; without it every `open` asks for a new grant. */
  store?: GuestStore;
  fetch?: typeof fetch;
}

/** Asks the relay (`sandbox-relay --guest`) for a sandbox of the caller's own; no token needed. */
export async function requestGuestGrant(relayUrl: string, options: { template?: string; fetch?: typeof fetch } = {}): Promise<GuestGrant> {
  const body = JSON.stringify(options.template !== undefined ? { template: options.template } : {});
  return call<GuestGrant>(transportOf(options.fetch), 'POST', base(relayUrl) + apiPaths.guestGrants(), body);
}

/** A new access token for the guest sandbox of `renewal`; throws `GUEST_EXPIRED` once the sandbox has ended. */
export async function renewGuestToken(relayUrl: string, renewal: string, options: { fetch?: typeof fetch } = {}): Promise<GuestTokenResponse> {
  return call<GuestTokenResponse>(transportOf(options.fetch), 'POST', base(relayUrl) + apiPaths.guestToken(), '{}', renewal);
}

/**
 * A guest sandbox and its tokens: `getToken` is what the client SDK and the elements ask before every call and
 * connection; it hands out the current access token and renews it shortly before it expires. Once the sandbox's
 * lifetime is over it throws `SandboxError` `GUEST_EXPIRED`: open a new `GuestAccess` (a new, empty sandbox) and say so.
 */
export class GuestAccess {
  #credentials: GuestCredentials;
  #renewing: Promise<string> | undefined;
  readonly #transport: Transport;
  readonly #store: GuestStore | undefined;
  readonly #fetch: typeof fetch | undefined;

  private constructor(credentials: GuestCredentials, transport: Transport, store: GuestStore | undefined, fetchFunction: typeof fetch | undefined) {
    this.#credentials = credentials;
    this.#transport = transport;
    this.#store = store;
    this.#fetch = fetchFunction;
  }

  /**
   * The stored guest sandbox if it is still alive on this relay (a reload comes back to it), else a fresh one.
   * `resumed` says which.
   */
  static async open(relayUrl: string, options: GuestAccessOptions = {}): Promise<{ access: GuestAccess; resumed: boolean }> {
    const transport = transportOf(options.fetch);
    const stored = options.store?.load();
    if (stored && base(stored.relayUrl) === base(relayUrl) && (stored.template ?? null) === (options.template ?? null) && Date.parse(stored.sandboxExpiresAt) > Date.now()) {
      const access = new GuestAccess(stored, transport, options.store, options.fetch);
      try {
        await access.getToken();
        return { access, resumed: true };
      } catch (error) {
        if (!(error instanceof SandboxError) || (error.code !== 'GUEST_EXPIRED' && error.code !== 'UNAUTHORIZED')) throw error;
      }
    }
    return { access: await GuestAccess.#grant(relayUrl, options, transport), resumed: false };
  }

  static async #grant(relayUrl: string, options: GuestAccessOptions, transport: Transport): Promise<GuestAccess> {
    const grant = await requestGuestGrant(relayUrl, { ...(options.template !== undefined ? { template: options.template } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
    const credentials: GuestCredentials = { relayUrl: base(relayUrl), ...grant };
    options.store?.save(credentials);
    return new GuestAccess(credentials, transport, options.store, options.fetch);
  }

  get relayUrl(): string {
    return this.#credentials.relayUrl;
  }

  /** The relay-chosen sandbox id (`guest-…`). */
  get sandbox(): string {
    return this.#credentials.sandbox;
  }

  /** When the relay deletes the sandbox. */
  get expiresAt(): Date {
    return new Date(this.#credentials.sandboxExpiresAt);
  }

  get template(): string | null {
    return this.#credentials.template;
  }

  /** The current access token, renewed when it is close to expiring. */
  readonly getToken = (): Promise<string> => {
    const credentials = this.#credentials;
    if (Date.parse(credentials.tokenExpiresAt) - GUEST_TOKEN_RENEW_MARGIN_MS > Date.now()) return Promise.resolve(credentials.token);
    this.#renewing ??= this.#renew().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  };

  /** A client for the guest sandbox that asks `getToken` before every call. */
  client(): Sandbox {
    return getSandbox(this.relayUrl, this.sandbox, { getToken: this.getToken, ...(this.#fetch ? { fetch: this.#fetch } : {}) });
  }

  /** Forgets the stored credentials (the sandbox itself ends with its lifetime). */
  forget(): void {
    this.#store?.clear();
  }

  async #renew(): Promise<string> {
    const credentials = this.#credentials;
    const renewed = await call<GuestTokenResponse>(this.#transport, 'POST', credentials.relayUrl + apiPaths.guestToken(), '{}', credentials.renewal);
    this.#credentials = { ...credentials, token: renewed.token, tokenExpiresAt: renewed.tokenExpiresAt, sandboxExpiresAt: renewed.sandboxExpiresAt };
    this.#store?.save(this.#credentials);
    return renewed.token;
  }
}

function transportOf(fetchFunction: typeof fetch | undefined): Transport {
  return fetchFunction ? fetchTransport(fetchFunction) : defaultTransport;
}

function base(relayUrl: string): string {
  return relayUrl.replace(/\/+$/, '');
}

const utf8 = new TextDecoder();

async function call<T>(transport: Transport, method: string, url: string, body: string, bearer?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
  const response = await transport({ method, url, headers, body });
  const bytes = await response.bytes();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    // not JSON: reported by status below
  }
  if (response.status < 200 || response.status > 299) throw SandboxError.fromBody(parsed, response.status);
  return parsed as T;
}
