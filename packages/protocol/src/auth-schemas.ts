import { z } from 'zod';
import { GUEST_RENEWAL_USE, TOKEN_SCOPES } from './auth.ts';

/** The claims of a relay token (a JWT signed with HS256 by the relay's secret). */
export const tokenClaims = z.object({
  /** The one sandbox this token is for. */
  sandbox: z.string().min(1).max(128),
  /** When present, only these sessions of the sandbox (terminals, session calls, exec in a session). */
  sessions: z.array(z.string().min(1).max(128)).max(1024).optional(),
  scope: z.enum(TOKEN_SCOPES),
  /** Expiry, seconds since the epoch; required. */
  exp: z.number().int(),
  /** Set on the access tokens of guest sandboxes (`sandbox-relay --guest`). */
  guest: z.literal(true).optional(),
});
export type TokenClaims = z.infer<typeof tokenClaims>;

/** The claims of a guest renewal token (see `GUEST_RENEWAL_USE`). */
export const guestRenewalClaims = z.object({
  use: z.literal(GUEST_RENEWAL_USE),
  sandbox: z.string().min(1).max(128),
  exp: z.number().int(),
});
export type GuestRenewalClaims = z.infer<typeof guestRenewalClaims>;
