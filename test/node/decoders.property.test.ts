import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ID_PATTERN,
  TERMINAL_MAX_COLS,
  TERMINAL_MAX_ROWS,
  TERMINAL_MIN_COLS,
  TERMINAL_MIN_ROWS,
  createSessionRequest,
  execRequest,
  mkdirRequest,
  parseClientControl,
  parseServerControl,
} from '@sandbox-terminal/protocol';
import { RelayError } from '../../server/src/errors.ts';
import { checkSandboxPath } from '../../server/src/sandbox/workspace-files.ts';

const RUNS = 2_000;

/** An independent statement of what a valid client control message is (docs/protocol.md), to judge the decoder by. */
function isValidControl(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const record = raw as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(',');
  const isInt = (value: unknown, min: number, max: number) => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
  switch (record.type) {
    case 'ping':
      return keys === 'type';
    case 'ack':
      return keys === 'position,type' && isInt(record.position, 0, Number.MAX_SAFE_INTEGER);
    case 'resize':
      return keys === 'cols,rows,type' && isInt(record.cols, TERMINAL_MIN_COLS, TERMINAL_MAX_COLS) && isInt(record.rows, TERMINAL_MIN_ROWS, TERMINAL_MAX_ROWS);
    default:
      return false;
  }
}

/** Values near the valid ones: right and wrong types, bounds, huge and fractional numbers, extra keys. */
const nearControl = fc.record(
  {
    type: fc.constantFrom('ping', 'ack', 'resize', 'Resize', '', 'input'),
    cols: fc.oneof(fc.integer({ min: -5, max: 1_100 }), fc.double(), fc.constant(1e300), fc.string()),
    rows: fc.oneof(fc.integer({ min: -5, max: 600 }), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER + 2)),
    position: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(2 ** 60), fc.constant('12')),
    extra: fc.jsonValue(),
  },
  { requiredKeys: ['type'] },
);

describe('terminal control decoder (property-based)', () => {
  it('parseClientControl never throws for arbitrary strings, and accepts none that is not a valid message', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 512 }), (text) => {
        const result = parseClientControl(text);
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          return result.ok === false;
        }
        return result.ok === isValidControl(raw);
      }),
      { numRuns: RUNS },
    );
  });

  it('parseClientControl accepts exactly the valid messages among arbitrary and near-valid JSON values, and returns them unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearControl), (value) => {
        const result = parseClientControl(JSON.stringify(value));
        const roundTripped: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
        assert.equal(result.ok, isValidControl(roundTripped), JSON.stringify(value));
        if (result.ok) assert.deepEqual(result.value, roundTripped);
        else if (isOversizedResize(roundTripped)) {
          assert.equal(result.error.code, 'LIMIT_EXCEEDED', JSON.stringify(value));
          assert.ok(['terminalCols', 'terminalRows'].includes(String(result.error.details?.limit)));
        } else assert.ok(['BAD_REQUEST', 'UNKNOWN_MESSAGE'].includes(result.error.code), JSON.stringify(value));
      }),
      { numRuns: RUNS },
    );
  });

  it('parseServerControl never throws, and returns only objects of a known type or null', () => {
    const known = ['ready', 'screen', 'truncated', 'session-recreated', 'exit', 'sleeping', 'error', 'pong'];
    const nearServer = fc.record({ type: fc.constantFrom(...known, 'Ready', '', 'input'), data: fc.jsonValue() }, { requiredKeys: ['type'] });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 512 }), fc.jsonValue().map((value) => JSON.stringify(value) ?? ''), nearServer.map((value) => JSON.stringify(value))), (text) => {
        const message = parseServerControl(text);
        if (message === null) return true;
        return typeof message === 'object' && known.includes(message.type);
      }),
      { numRuns: RUNS },
    );
  });
});

/** A resize with integer cols and rows, nothing else, at least one of them outside the bounds. */
function isOversizedResize(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const record = raw as Record<string, unknown>;
  if (record.type !== 'resize' || Object.keys(record).sort().join(',') !== 'cols,rows,type') return false;
  const { cols, rows } = record;
  return Number.isSafeInteger(cols) && Number.isSafeInteger(rows) && !isValidControl(raw);
}

describe('HTTP request schemas (property-based)', () => {
  const allowed = {
    exec: new Set(['command', 'session', 'cwd', 'env', 'timeout', 'stdin']),
    createSession: new Set(['id', 'cwd', 'env', 'cols', 'rows']),
    mkdir: new Set(['path', 'recursive']),
  };
  const nearExec = fc.record(
    {
      command: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      session: fc.oneof(fc.string({ maxLength: 140 }), fc.constant('good-id')),
      cwd: fc.oneof(fc.string(), fc.constant('')),
      env: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer())),
      timeout: fc.oneof(fc.integer(), fc.double(), fc.constant(0)),
      stdin: fc.oneof(fc.string(), fc.boolean()),
      bogus: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );

  it('safeParse never throws, and every accepted exec request has a string command, valid ids and env names and no unknown field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), nearExec), (value) => {
        const parsed = execRequest.safeParse(value);
        if (!parsed.success) return true;
        const data = parsed.data;
        assert.equal(typeof data.command, 'string');
        assert.ok(Object.keys(data).every((key) => allowed.exec.has(key)));
        if (data.session !== undefined) assert.match(data.session, ID_PATTERN);
        if (data.timeout !== undefined) assert.ok(Number.isInteger(data.timeout) && data.timeout > 0);
        for (const name of Object.keys(data.env ?? {})) assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/);
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('safeParse never throws for createSession and mkdir, and accepts no unknown field or wrong type', () => {
    fc.assert(
      fc.property(fc.anything(), fc.oneof(fc.anything(), fc.record({ path: fc.oneof(fc.string(), fc.integer()), recursive: fc.oneof(fc.boolean(), fc.string()) })), (session, mkdir) => {
        const created = createSessionRequest.safeParse(session);
        if (created.success) {
          assert.ok(Object.keys(created.data).every((key) => allowed.createSession.has(key)));
          if (created.data.id !== undefined) assert.match(created.data.id, ID_PATTERN);
        }
        const made = mkdirRequest.safeParse(mkdir);
        if (made.success) {
          assert.ok(typeof made.data.path === 'string' && made.data.path.length > 0);
          assert.ok(made.data.recursive === undefined || typeof made.data.recursive === 'boolean');
          assert.ok(Object.keys(made.data).every((key) => allowed.mkdir.has(key)));
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('workspace path confinement (property-based)', () => {
  const segment = fc.oneof(fc.constantFrom('..', '.', '', 'workspace', 'etc', '..\0', 'a b'), fc.string({ maxLength: 6 }));
  const pathLike = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.array(segment, { maxLength: 8 }).map((parts) => `/workspace/${parts.join('/')}`),
    fc.array(segment, { maxLength: 8 }).map((parts) => `/${parts.join('/')}`),
  );

  it('checkSandboxPath never returns a path outside /workspace, and refuses with a typed error otherwise', () => {
    fc.assert(
      fc.property(pathLike, (path) => {
        let result: string;
        try {
          result = checkSandboxPath(path);
        } catch (error) {
          assert.ok(error instanceof RelayError, `untyped error for ${JSON.stringify(path)}`);
          assert.ok(['PATH_OUTSIDE_WORKSPACE', 'BAD_REQUEST'].includes(error.code));
          return;
        }
        assert.ok(result === '/workspace' || result.startsWith('/workspace/'), `${JSON.stringify(path)} → ${result}`);
        assert.equal(posix.normalize(result), result);
        assert.ok(!result.split('/').includes('..'));
        assert.ok(!result.includes('\0'));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
