import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_STATUS_BY_CODE, type ErrorPayload } from '@sandbox-terminal/protocol';
import { limitExceeded, toErrorPayload } from '../errors.ts';

/** Reads a request body, refusing (LIMIT_EXCEEDED) as soon as it passes `limitBytes`. */
export function readBody(request: IncomingMessage, limitBytes: number, limitName: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limitBytes) {
      reject(limitExceeded(limitName, limitBytes, `request body of ${declared} bytes is over the ${limitBytes}-byte limit`));
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(limitExceeded(limitName, limitBytes, `request body is over the ${limitBytes}-byte limit`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function sendError(response: ServerResponse, error: unknown): void {
  const payload: ErrorPayload = toErrorPayload(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, HTTP_STATUS_BY_CODE[payload.code], payload);
}
