import type { IncomingMessage } from 'node:http';

/** Addresses vouched for by the relay that forwarded a call (see cluster/hop-signature.ts). */
const forwardedFor = new WeakMap<IncomingMessage, string>();

/** The address a call came from: the socket's, or the original caller's for a call another relay forwarded. */
export function clientAddressOf(request: IncomingMessage): string {
  return forwardedFor.get(request) ?? request.socket.remoteAddress ?? 'unknown';
}

/** Records the original caller of a forwarded call; only after its hop signature was verified. */
export function setForwardedClientAddress(request: IncomingMessage, address: string): void {
  forwardedFor.set(request, address);
}
