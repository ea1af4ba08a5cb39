import type { IncomingMessage } from 'node:http';

/** Addresses vouched for by the relay that forwarded a call (see cluster/hop-signature.ts). */
const forwardedFor = new WeakMap<IncomingMessage, string>();

/**
 * The address a request came from, for per-client limits. A call another relay forwarded counts as its original
 * caller's (the forwarding relay signed it). Behind a reverse proxy every request comes from the proxy, so with
 * `trustProxy` the last `X-Forwarded-For` entry counts: the one the operator's own proxy appended. Earlier entries
 * are the client's to write and never trusted.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  const vouched = forwardedFor.get(request);
  if (vouched) return vouched;
  if (trustProxy) {
    const header = request.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.at(-1) : header;
    const last = value?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return request.socket.remoteAddress ?? 'unknown';
}

/** Records the original caller of a forwarded call; only after its hop signature was verified. */
export function setForwardedClientAddress(request: IncomingMessage, address: string): void {
  forwardedFor.set(request, address);
}
