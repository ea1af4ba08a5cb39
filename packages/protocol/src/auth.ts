export type { TokenClaims } from './auth-schemas.ts';

/**
 * What a token lets its holder do, each including the one before: `read` views (status, lists, file reads, terminal
 * output), `write` also types, resizes and runs commands and changes files, `admin` also creates, deletes and
 * restarts sessions and prepares the sandbox from a template, `owner` also deletes the whole sandbox with its
 * workspace (a reset). Guest tokens are `owner` of their one sandbox.
 */
export const TOKEN_SCOPES = ['read', 'write', 'admin', 'owner'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];


/**
 * Browsers cannot set headers on a WebSocket and a token in the URL ends up in access logs, so the terminal socket
 * carries it as a second offered subprotocol `bearer.<token>` (JWTs use only subprotocol-safe characters). The relay
 * selects `sandbox-terminal.v1` and never echoes the token.
 */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';

/** True when `scope` allows what `needed` does. */
export function scopeAllows(scope: TokenScope, needed: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(scope) >= TOKEN_SCOPES.indexOf(needed);
}

/**
 * The `use` claim of a guest renewal token. It is not an access token (it has no scope, and the relay refuses any
 * token carrying a `use` claim as one): it only buys new short-lived access tokens for its one guest sandbox, at
 * `apiPaths.guestToken()`, until the sandbox's lifetime ends.
 */
export const GUEST_RENEWAL_USE = 'guest-renewal';
