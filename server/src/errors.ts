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

/** What a client is told of an error the relay did not expect; its text (host paths, say) stays in the relay's log. */
export const INTERNAL_MESSAGE = "the relay hit an unexpected error; its log has the details under this request's x-request-id";

/** Any thrown value as a payload safe to send: relay errors as they are, everything else as INTERNAL without its text. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof RelayError) return error.toPayload();
  return { code: 'INTERNAL', message: INTERNAL_MESSAGE };
}
