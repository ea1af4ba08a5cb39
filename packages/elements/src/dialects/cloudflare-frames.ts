import { isErrorCode, type ErrorPayload } from '@sandbox-terminal/protocol';

/**
 * The JSON frames a Cloudflare terminal server sends: `sandbox.terminal(request)` in a Sandbox SDK 0.x Worker, or a
 * Worker that follows the 1.0 browser-terminal recipe (which promises at least `{"type":"ready"}`). Different
 * servers spell the exit code differently (`code`, `exitCode`, `exit.code`), so all three are accepted.
 */
export type CloudflareFrame =
  | { type: 'ready' }
  | { type: 'exit'; exitCode: number; signal: number | null }
  | { type: 'error'; code: ErrorPayload['code']; message: string };

/** Reads a Cloudflare-style status frame; anything else (and anything malformed) is ignored. */
export function parseCloudflareFrame(text: string): CloudflareFrame | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const frame = raw as Record<string, unknown>;
  const nested = typeof frame.exit === 'object' && frame.exit !== null ? (frame.exit as Record<string, unknown>) : {};
  switch (frame.type) {
    case 'ready':
      return { type: 'ready' };
    case 'exit': {
      const code = [frame.code, frame.exitCode, nested.code].find((value) => typeof value === 'number') as number | undefined;
      const signal = [frame.signal, nested.signal].find((value) => typeof value === 'number') as number | undefined;
      return { type: 'exit', exitCode: code ?? -1, signal: signal ?? null };
    }
    case 'error': {
      const code = isErrorCode(frame.code) ? frame.code : 'INTERNAL';
      return { type: 'error', code, message: typeof frame.message === 'string' ? frame.message : 'the terminal server reported an error' };
    }
    default:
      return undefined;
  }
}
