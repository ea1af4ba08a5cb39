import type { IncomingMessage } from 'node:http';
import { GUEST_RENEWAL_USE, TOKEN_SUBPROTOCOL_PREFIX, guestRenewalClaims, scopeAllows, tokenClaims, type TokenClaims, type TokenScope } from '@sandbox-terminal/protocol';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { RelayError } from './errors.ts';

/** HS256 wants a key at least as long as its hash (RFC 7518 §3.2); shorter secrets are refused. */
export const MIN_SECRET_BYTES = 32;
const ALGORITHM = 'HS256';

export interface IssueTokenOptions {
  /** The relay's secret (`RELAY_SECRET`), at least 32 bytes. */
  secret: string;
  sandbox: string;
  /** Limits the token to these sessions of the sandbox. */
  sessions?: string[];
  scope: TokenScope;
  /** Lifetime: seconds from now (a number), or a jose time span such as `'15m'` or `'2h'`. */
  expiresIn: number | string;
}

/** Signs a token for the site's backend to hand to one browser; see SECURITY.md for what each scope allows. */
export async function issueToken(options: IssueTokenOptions): Promise<string> {
  const claims: Omit<TokenClaims, 'exp'> = { sandbox: options.sandbox, scope: options.scope, ...(options.sessions ? { sessions: options.sessions } : {}) };
  const expiration = typeof options.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + Math.floor(options.expiresIn) : options.expiresIn;
  return new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM }).setIssuedAt().setExpirationTime(expiration).sign(secretKey(options.secret));
}

function secretKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < MIN_SECRET_BYTES) throw new Error(`the relay secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

/** What one call needs: a sandbox, maybe a session, and a scope. */
export interface AccessNeed {
  sandbox: string;
  session?: string | undefined;
  scope: TokenScope;
}

/** What the caller may do, once its token is verified. Without a secret (development) it may do everything. */
export class Grant {
  constructor(readonly claims: TokenClaims | undefined) {}

  allows(scope: TokenScope): boolean {
    return !this.claims || scopeAllows(this.claims.scope, scope);
  }

  /** Refuses (FORBIDDEN) what the token does not cover. */
  require(need: AccessNeed): void {
    const claims = this.claims;
    if (!claims) return;
    if (claims.sandbox !== need.sandbox) throw new RelayError('FORBIDDEN', 'the token is for another sandbox');
    if (need.session !== undefined && claims.sessions && !claims.sessions.includes(need.session)) {
      throw new RelayError('FORBIDDEN', 'the token is not for this session');
    }
    if (!scopeAllows(claims.scope, need.scope)) throw new RelayError('FORBIDDEN', `this needs the ${need.scope} scope; the token has ${claims.scope}`, { scope: claims.scope, needed: need.scope });
  }

  /** Whether the token reaches this session (a token without a `sessions` claim reaches every session of its sandbox). */
  coversSession(sessionId: string): boolean {
    return !this.claims?.sessions || this.claims.sessions.includes(sessionId);
  }

  /** A token limited to some sessions may not run commands outside them (a one-shot exec, a new session id it does not name). */
  requireAnySession(): void {
    if (this.claims?.sessions) throw new RelayError('FORBIDDEN', 'the token is limited to some sessions');
  }
}

/**
 * Checks tokens at the relay's boundary (HTTP routes and the terminal upgrade); the sessions and sandboxes behind it
 * know nothing of tokens. Without a secret every caller is granted everything (development mode).
 */
export class RelayAuth {
  readonly #key: Uint8Array | undefined;

  constructor(secret: string | undefined) {
    this.#key = secret === undefined ? undefined : secretKey(secret);
  }

  get enabled(): boolean {
    return this.#key !== undefined;
  }

  /** Verifies the token (UNAUTHORIZED when missing, malformed, badly signed or expired). */
  async verify(token: string | undefined): Promise<Grant> {
    if (!this.#key) return new Grant(undefined);
    if (!token) throw new RelayError('UNAUTHORIZED', 'this relay needs a token (Authorization: Bearer, or the bearer.<token> subprotocol)');
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: [ALGORITHM], requiredClaims: ['exp'] });
      // A guest renewal token (or any later special-purpose token) is never an access token.
      if (payload.use !== undefined) throw new RelayError('UNAUTHORIZED', 'this token is not an access token');
      const parsed = tokenClaims.safeParse(payload);
      if (!parsed.success) throw new RelayError('UNAUTHORIZED', 'the token lacks the sandbox, scope or exp claim');
      return new Grant(parsed.data);
    } catch (error) {
      if (error instanceof RelayError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new RelayError('UNAUTHORIZED', 'the token has expired');
      throw new RelayError('UNAUTHORIZED', 'the token is not valid');
    }
  }

  /**
   * A guest sandbox's access token: `owner` of it alone (marked `guest`), valid for `tokenTtlMs` but never past the
   * sandbox's end. `issueGuestRenewal` signs the token that buys the next one, valid until that end.
   */
  async issueGuestToken(sandbox: string, sandboxExpiresAtMs: number, tokenTtlMs: number, now = Date.now()): Promise<{ token: string; tokenExpiresAtMs: number }> {
    const key = this.#requireKey();
    const tokenExpiresAtMs = Math.min(now + tokenTtlMs, sandboxExpiresAtMs);
    const claims: Omit<TokenClaims, 'exp'> = { sandbox, scope: 'owner', guest: true };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM }).setIssuedAt().setExpirationTime(Math.floor(tokenExpiresAtMs / 1000)).sign(key);
    return { token, tokenExpiresAtMs };
  }

  async issueGuestRenewal(sandbox: string, sandboxExpiresAtMs: number): Promise<string> {
    return new SignJWT({ use: GUEST_RENEWAL_USE, sandbox }).setProtectedHeader({ alg: ALGORITHM }).setIssuedAt().setExpirationTime(Math.floor(sandboxExpiresAtMs / 1000)).sign(this.#requireKey());
  }

  /** The sandbox a renewal token is for (UNAUTHORIZED when missing, forged, expired or not a renewal token). */
  async verifyGuestRenewal(token: string | undefined): Promise<string> {
    const key = this.#requireKey();
    if (!token) throw new RelayError('UNAUTHORIZED', 'send the guest renewal token as the bearer token');
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: [ALGORITHM], requiredClaims: ['exp'] });
      const parsed = guestRenewalClaims.safeParse(payload);
      if (!parsed.success) throw new RelayError('UNAUTHORIZED', 'this token is not a guest renewal token');
      return parsed.data.sandbox;
    } catch (error) {
      if (error instanceof RelayError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new RelayError('GUEST_EXPIRED', 'the guest sandbox has reached the end of its lifetime');
      throw new RelayError('UNAUTHORIZED', 'the renewal token is not valid');
    }
  }

  #requireKey(): Uint8Array {
    if (!this.#key) throw new Error('guest tokens need the relay secret');
    return this.#key;
  }

  /** The token of an HTTP request: `Authorization: Bearer <token>`. */
  static httpToken(request: IncomingMessage): string | undefined {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    return match?.[1];
  }

  /** The token of a terminal upgrade: the `bearer.<token>` subprotocol, or an Authorization header (non-browser clients). */
  static upgradeToken(request: IncomingMessage): string | undefined {
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
    const fromProtocol = offered.find((protocol) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
    return fromProtocol ? fromProtocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length) : RelayAuth.httpToken(request);
  }
}
