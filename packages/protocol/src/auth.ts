export type { TokenClaims } from './auth-schemas.ts';

/**
 * What a token lets its holder do, each including the one before: `read` views (status, lists, file reads, terminal
 * output), `write` also types, resizes and runs commands and changes files, `admin` also creates, deletes and
 * restarts sessions.
 */
export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
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
