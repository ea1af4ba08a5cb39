import type { IncomingMessage } from 'node:http';

/**
 * The address a request came from, for per-client limits (guest sandboxes per address). Behind a reverse proxy every
 * request comes from the proxy, so with `trustProxy` the last `X-Forwarded-For` entry counts: the one the operator's
 * own proxy appended. Earlier entries are the client's to write and never trusted.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = request.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.at(-1) : header;
    const last = value?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return request.socket.remoteAddress ?? 'unknown';
}
