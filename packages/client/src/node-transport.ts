import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { abortReason, type Transport, type TransportRequest, type TransportResponse } from './transport.ts';

/**
 * The default in Node: node:http on the global agent (keep-alive). A call costs about 1 ms less CPU than through
 * Node's `fetch` (undici and its web streams), which is a third of a `true` exec's round trip on loopback.
 */
export const defaultTransport: Transport = (request) => send(request, true);

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

function send(call: TransportRequest, mayRetry: boolean): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = call;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const url = new URL(call.url);
    const headers: Record<string, string> = { ...call.headers };
    if (call.body !== undefined) headers['content-length'] = String(typeof call.body === 'string' ? Buffer.byteLength(call.body) : call.body.byteLength);
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: call.method, headers });
    const onAbort = () => request.destroy(abortReason(signal!) as Error);
    const forgetSignal = () => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    let answered = false;
    request.once('response', (message) => {
      answered = true;
      resolve(new NodeResponse(message, signal, forgetSignal));
    });
    request.once('error', (error: NodeJS.ErrnoException) => {
      forgetSignal();
      // A kept-alive connection the server closed as it sat idle fails before any answer. Node's agent stops reusing a
      // connection before the server's announced keep-alive timeout, but a proxy may close sooner: an idempotent call
      // goes once more on a fresh connection (as undici does). A POST (exec!) is not repeated; it might have run.
      const resetWhileIdle = !answered && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      if (mayRetry && resetWhileIdle && IDEMPOTENT.has(call.method) && !signal?.aborted) resolve(send(call, false));
      else reject(signal?.aborted ? abortReason(signal) : error);
    });
    request.end(call.body);
  });
}

class NodeResponse implements TransportResponse {
  constructor(
    readonly message: IncomingMessage,
    readonly signal: AbortSignal | undefined,
    readonly finished: () => void,
  ) {}

  get status(): number {
    return this.message.statusCode ?? 0;
  }

  bytes(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.message.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      this.message.once('end', () => {
        this.finished();
        // A plain Uint8Array of its own, as fetch gives: not a Buffer, and not a view into Node's shared pool.
        const body = new Uint8Array(size);
        let offset = 0;
        for (const chunk of chunks) {
          body.set(chunk, offset);
          offset += chunk.length;
        }
        resolve(body);
      });
      this.message.once('error', (error) => {
        this.finished();
        reject(this.signal?.aborted ? abortReason(this.signal) : error);
      });
    });
  }

  async *chunks(): AsyncIterable<Uint8Array> {
    try {
      for await (const chunk of this.message) yield chunk as Buffer;
    } catch (error) {
      throw this.signal?.aborted ? abortReason(this.signal) : error;
    } finally {
      this.finished();
    }
  }
}
