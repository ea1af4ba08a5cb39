import { z } from 'zod';

/**
 * What a token lets its holder do, each including the one before: `read` views (status, lists, file reads, terminal
 * output), `write` also types, resizes and runs commands and changes files, `admin` also creates, deletes and
 * restarts sessions.
 */
export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The claims of a relay token (a JWT signed with HS256 by the relay's secret). */
export const tokenClaims = z.object({
  /** The one sandbox this token is for. */
  sandbox: z.string().min(1).max(128),
  /** When present, only these sessions of the sandbox (terminals, session calls, exec in a session). */
  sessions: z.array(z.string().min(1).max(128)).max(1024).optional(),
  scope: z.enum(TOKEN_SCOPES),
  /** Expiry, seconds since the epoch; required. */
  exp: z.number().int(),
});
export type TokenClaims = z.infer<typeof tokenClaims>;

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
