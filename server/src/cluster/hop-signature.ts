import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a relay that forwarded a call vouches for: the caller's address as it saw it. */
export interface ForwardedHop {
  clientAddress: string;
}

/** A signature older than this is refused: a captured header cannot be replayed for long. */
export const HOP_SIGNATURE_MAX_AGE_MS = 60_000;
const VERSION = 'v1';

/**
 * Signs and checks the relay-to-relay header (`RELAY_HOP_HEADER`). It grants nothing a direct caller lacks: tokens are
 * checked by the relay that serves the call, as for any call. What it carries is bookkeeping the owner cannot see for
 * itself (the caller's address, for the per-address limits; that the call was already rate-limited at the edge; that
 * it must not be forwarded again), so a forged or replayed one is refused and the call is treated as a direct one.
 * HMAC-SHA256 over the method, path and query, with the cluster's key (kept in Redis, see LeaseStore.clusterKey).
 */
export class HopSignature {
  constructor(private readonly key: Buffer) {}

  sign(hop: ForwardedHop, method: string, pathAndQuery: string, now = Date.now()): string {
    const address = Buffer.from(hop.clientAddress).toString('base64url');
    const body = `${VERSION}.${address}.${now}`;
    return `${body}.${this.#mac(body, method, pathAndQuery)}`;
  }

  /** The hop, if the header is ours, fresh, and for exactly this method and path; otherwise undefined. */
  verify(header: string | string[] | undefined, method: string, pathAndQuery: string, now = Date.now()): ForwardedHop | undefined {
    if (typeof header !== 'string' || header.length > 512) return undefined;
    const parts = header.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
    const [, address, issuedAt, mac] = parts as [string, string, string, string];
    const age = now - Number(issuedAt);
    if (!/^\d{1,16}$/.test(issuedAt) || age > HOP_SIGNATURE_MAX_AGE_MS || age < -HOP_SIGNATURE_MAX_AGE_MS) return undefined;
    const expected = Buffer.from(this.#mac(`${VERSION}.${address}.${issuedAt}`, method, pathAndQuery));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { clientAddress: Buffer.from(address, 'base64url').toString() };
  }

  #mac(body: string, method: string, pathAndQuery: string): string {
    return createHmac('sha256', this.key).update(`${body}\n${method}\n${pathAndQuery}`).digest('base64url');
  }
}
