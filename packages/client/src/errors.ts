import { isErrorCode, type ErrorCode, type ErrorPayload } from '@sandbox-terminal/protocol';

/** Thrown by every SDK call the relay refused; `code` is one of the protocol's `ErrorCode`s. */
export class SandboxError extends Error {
  override name = 'SandboxError';
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(payload: ErrorPayload, status?: number) {
    super(payload.message);
    this.code = payload.code;
    this.status = status;
    this.details = payload.details;
  }

  /** Builds the error from a relay response body, whatever it holds. */
  static fromBody(body: unknown, status: number): SandboxError {
    const candidate = body as Partial<ErrorPayload> | null;
    if (candidate && isErrorCode(candidate.code) && typeof candidate.message === 'string') {
      return new SandboxError(candidate as ErrorPayload, status);
    }
    return new SandboxError({ code: 'INTERNAL', message: `relay answered HTTP ${status}` }, status);
  }
}
