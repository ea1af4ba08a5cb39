import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** What the relay's routes read of a request besides its body. */
const REQUEST_FIELDS = ['headers', 'rawHeaders', 'method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'socket', 'trailers', 'rawTrailers'] as const;

/**
 * A request whose body was read to be forwarded (so that it could be sent again), for when it ends up served here
 * after all (its owner had gone): the same request line, headers and socket, and the body again, from memory.
 */
export function replayedRequest(original: IncomingMessage, body: Buffer): IncomingMessage {
  let sent = false;
  const replay = new Readable({
    read() {
      if (!sent && body.length) this.push(body);
      sent = true;
      this.push(null);
    },
  });
  for (const field of REQUEST_FIELDS) Object.defineProperty(replay, field, { value: original[field], enumerable: true });
  return replay as IncomingMessage;
}
