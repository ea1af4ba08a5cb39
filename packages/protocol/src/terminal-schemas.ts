import { z } from 'zod';
import type { ErrorPayload } from './errors.ts';
import { TERMINAL_MAX_COLS, TERMINAL_MAX_ROWS, TERMINAL_MIN_COLS, TERMINAL_MIN_ROWS } from './terminal.ts';

// The client → relay control frames, validated with zod: only the relay parses them, so browsers that import the
// protocol's constants and `parseServerControl` never bundle zod (this module is left out by tree shaking).

export const colsSchema = z.number().int().min(TERMINAL_MIN_COLS).max(TERMINAL_MAX_COLS);
export const rowsSchema = z.number().int().min(TERMINAL_MIN_ROWS).max(TERMINAL_MAX_ROWS);

// ---------------------------------------------------------------- client → relay

export const resizeMessage = z.object({ type: z.literal('resize'), cols: colsSchema, rows: rowsSchema }).strict();
/** Keeps idle proxies from closing the socket; the relay answers `pong`. Does not count as sandbox activity. */
export const pingMessage = z.object({ type: z.literal('ping') }).strict();

/** The client has processed (rendered) every output byte before `position`; drives flow control. */
export const ackMessage = z.object({ type: z.literal('ack'), position: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict();

export const clientControlMessage = z.discriminatedUnion('type', [resizeMessage, pingMessage, ackMessage]);
export type ClientControlMessage = z.infer<typeof clientControlMessage>;
export type ResizeMessage = z.infer<typeof resizeMessage>;
export type AckMessage = z.infer<typeof ackMessage>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

/**
 * Validates one text frame from a client. Never throws: malformed JSON, unknown types and bad values all come
 * back as a typed error the relay sends to that client, leaving the connection and session up.
 */
export function parseClientControl(text: string): ParseResult<ClientControlMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'BAD_REQUEST', message: 'control frame is not valid JSON' } };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: { code: 'BAD_REQUEST', message: 'control frame must be a JSON object' } };
  }
  const type = (raw as { type?: unknown }).type;
  if (type !== 'resize' && type !== 'ping' && type !== 'ack') {
    return {
      ok: false,
      error: { code: 'UNKNOWN_MESSAGE', message: `unknown control message type ${JSON.stringify(type ?? null).slice(0, 64)}` },
    };
  }
  // The frame a viewer sends most (one per 64 KiB it renders) is checked by hand, exactly as `ackMessage` checks it:
  // zod took ~30 µs a frame, a tenth of the relay's CPU under a flood.
  if (type === 'ack') {
    const position = (raw as { position?: unknown }).position;
    if (Object.keys(raw).length === 2 && typeof position === 'number' && Number.isInteger(position) && position >= 0 && position <= Number.MAX_SAFE_INTEGER) {
      return { ok: true, value: { type: 'ack', position } };
    }
  }
  const parsed = clientControlMessage.safeParse(raw);
  if (!parsed.success) {
    const outOfBounds = type === 'resize' ? sizeOverLimit(raw as Record<string, unknown>) : undefined;
    if (outOfBounds) return { ok: false, error: outOfBounds };
    return { ok: false, error: { code: 'BAD_REQUEST', message: describeIssues(parsed.error) } };
  }
  return { ok: true, value: parsed.data };
}

/**
 * A text frame from a client served in Cloudflare compatibility mode (no `sandbox-terminal.v1`): everything
 * `parseClientControl` reads, plus the resize of Cloudflare's Sandbox SDK 1.0 browser-terminal recipe, a bare
 * `{"cols","rows"}` object without `type`, validated the same way.
 */
export function parseCompatClientControl(text: string): ParseResult<ClientControlMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return parseClientControl(text);
  }
  const untypedResize =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.keys(raw).sort().join(',') === 'cols,rows';
  return parseClientControl(untypedResize ? JSON.stringify({ type: 'resize', ...(raw as object) }) : text);
}

/** A resize that is well-formed except that a dimension is outside the bounds: a limit, named as such. */
function sizeOverLimit(raw: Record<string, unknown>): ErrorPayload | undefined {
  const keys = Object.keys(raw).sort().join(',');
  const { cols, rows } = raw;
  if (keys !== 'cols,rows,type' || !Number.isSafeInteger(cols) || !Number.isSafeInteger(rows)) return undefined;
  const bounds = [
    { limit: 'terminalCols', value: cols as number, min: TERMINAL_MIN_COLS, max: TERMINAL_MAX_COLS },
    { limit: 'terminalRows', value: rows as number, min: TERMINAL_MIN_ROWS, max: TERMINAL_MAX_ROWS },
  ];
  const over = bounds.find(({ value, min, max }) => value < min || value > max);
  if (!over) return undefined;
  return {
    code: 'LIMIT_EXCEEDED',
    message: `${over.limit === 'terminalCols' ? 'cols' : 'rows'} must be between ${over.min} and ${over.max}`,
    details: { limit: over.limit, value: over.value < over.min ? over.min : over.max },
  };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
