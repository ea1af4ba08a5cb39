import type { ErrorCode, ErrorPayload } from '@sandbox-terminal/protocol';

/** An error the relay reports to a client as it is: code, message and details reach the caller. */
export class RelayError extends Error {
  override name = 'RelayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toPayload(): ErrorPayload {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function limitExceeded(limit: string, value: number, message: string): RelayError {
  return new RelayError('LIMIT_EXCEEDED', message, { limit, value });
}

/** Any thrown value as a payload safe to send: relay errors as they are, everything else as INTERNAL. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof RelayError) return error.toPayload();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message };
}
