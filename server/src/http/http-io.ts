import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_STATUS_BY_CODE, describeIssues, type ErrorPayload } from '@sandbox-terminal/protocol';
import type { z } from 'zod';
import { RelayError, limitExceeded, toErrorPayload } from '../errors.ts';

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

/** Parses and validates a JSON body against a protocol schema; every failure is a BAD_REQUEST that says why. */
export async function readJson<T extends z.ZodType>(request: IncomingMessage, schema: T, limitBytes: number): Promise<z.infer<T>> {
  const body = await readBody(request, limitBytes, 'jsonBodyBytes');
  let raw: unknown = {};
  if (body.length) {
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RelayError('BAD_REQUEST', 'request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new RelayError('BAD_REQUEST', describeIssues(parsed.error));
  return parsed.data;
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
