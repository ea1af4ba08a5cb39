import type { IncomingMessage } from 'node:http';
import { describeIssues } from '@sandbox-terminal/protocol';
import type { z } from 'zod';
import { RelayError, limitExceeded } from '../errors.ts';
import { JsonValueCounter } from './json-value-counter.ts';

export interface JsonBodyLimits {
  /** `jsonBodyBytes` */
  bytes: number;
  /** `jsonBodyValues` */
  values: number;
}

/**
 * Reads a JSON request body and validates it against a protocol schema. Refused while it arrives, before anything is
 * parsed: a body over `bytes` (LIMIT_EXCEEDED `jsonBodyBytes`) or with more than `values` JSON values (LIMIT_EXCEEDED
 * `jsonBodyValues`), so that no body can hold the event loop for long in JSON.parse or the schema. Every other
 * failure is a BAD_REQUEST that says why.
 */
export async function readJson<T extends z.ZodType>(request: IncomingMessage, schema: T, limits: JsonBodyLimits): Promise<z.infer<T>> {
  const body = await readBoundedJson(request, limits);
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

function readBoundedJson(request: IncomingMessage, limits: JsonBodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const counter = new JsonValueCounter();
    let size = 0;
    function onData(chunk: Buffer): void {
      size += chunk.length;
      if (size > limits.bytes) return refuse(limitExceeded('jsonBodyBytes', limits.bytes, `request body is over the ${limits.bytes}-byte limit`));
      counter.push(chunk);
      if (counter.values > limits.values) {
        return refuse(limitExceeded('jsonBodyValues', limits.values, `request body holds more than ${limits.values} JSON values`));
      }
      chunks.push(chunk);
    }
    function refuse(error: RelayError): void {
      request.removeListener('data', onData);
      reject(error);
      // Drained, not kept: the client can still read the answer.
      request.resume();
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limits.bytes) {
      refuse(limitExceeded('jsonBodyBytes', limits.bytes, `request body of ${declared} bytes is over the ${limits.bytes}-byte limit`));
      return;
    }
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}
