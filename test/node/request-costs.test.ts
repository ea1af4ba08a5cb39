// Two cuts in what every HTTP request or session exec costs the relay: request loggers made only when a line is
// written (lazy-logger.ts), and a job file rewritten with one pwrite (job-file.ts). Both must keep what they replace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { lazyChild } from '../../server/src/lazy-logger.ts';
import { JobFile } from '../../server/src/session/job-file.ts';

/** A pino logger writing its lines into an array, with its `child()` calls counted. */
function recordingLogger(level: string): { logger: Logger; lines: Record<string, unknown>[]; children: () => number } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const recording = pino({ level, base: undefined, timestamp: false }, sink);
  let children = 0;
  const child = recording.child.bind(recording);
  recording.child = ((...args: Parameters<Logger['child']>) => {
    children++;
    return child(...args);
  }) as Logger['child'];
  return { logger: recording, lines, children: () => children };
}

describe('lazyChild', () => {
  it('writes the same lines as pino child() would, bindings of nested children included', () => {
    const { logger, lines } = recordingLogger('debug');
    const log = lazyChild(logger, { requestId: 'r1' }).child({ sandbox: 'box', session: 's1' });
    log.debug({ route: 'POST /exec', status: 200 }, 'http request');
    log.error({ code: 'INTERNAL' }, 'request failed');
    assert.deepEqual(lines.map(({ level, msg, requestId, sandbox, session, route, status, code }) => ({ level, msg, requestId, sandbox, session, route, status, code })), [
      { level: 20, msg: 'http request', requestId: 'r1', sandbox: 'box', session: 's1', route: 'POST /exec', status: 200, code: undefined },
      { level: 50, msg: 'request failed', requestId: 'r1', sandbox: 'box', session: 's1', route: undefined, status: undefined, code: 'INTERNAL' },
    ]);
  });

  it('makes no pino child while only levels that are off are written, and one once a line is written', () => {
    const { logger, lines, children } = recordingLogger('warn');
    const log = lazyChild(logger, { requestId: 'r2' }).child({ sandbox: 'box' });
    log.debug({ route: 'GET /healthz' }, 'http request');
    log.info('nothing');
    assert.equal(children(), 0, 'a request that logs nothing at this level makes no child');
    assert.equal(lines.length, 0);
    log.warn('kept');
    assert.equal(children(), 1);
    assert.deepEqual(lines.map(({ msg, requestId, sandbox }) => ({ msg, requestId, sandbox })), [{ msg: 'kept', requestId: 'r2', sandbox: 'box' }]);
    assert.equal(log.level, 'warn', 'other properties come from the child');
  });

  it('follows the parent\'s level as it is changed', () => {
    const { logger, lines } = recordingLogger('warn');
    const log = lazyChild(logger, { requestId: 'r3' });
    log.debug('off');
    logger.level = 'debug';
    log.debug('on');
    assert.deepEqual(lines.map(({ msg }) => msg), ['on']);
  });
});

describe('JobFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'job-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** What bash runs when it sources the file: each job prints its name. */
  const sourced = (path: string) => execFileSync('bash', ['--norc', '-c', `. ${path}`], { encoding: 'utf8' });

  it('a shorter job is padded with blanks (no cut), a much shorter one cuts the file; bash runs exactly the job written', () => {
    const path = join(dir, 'job');
    const file = new JobFile(path);
    try {
      const long = `echo first; : ${'x'.repeat(200)}\n`;
      file.write(long);
      assert.equal(sourced(path), 'first\n');
      file.write('echo second\n');
      assert.equal(statSync(path).size, Buffer.byteLength(long), 'padded to the old length');
      assert.match(readFileSync(path, 'utf8'), /^echo second\n +$/);
      assert.equal(sourced(path), 'second\n');
      file.write(`echo third; : ${'y'.repeat(10_000)}\n`);
      file.write('echo fourth\n');
      assert.equal(statSync(path).size, 'echo fourth\n'.length, 'cut: more than JOB_PADDING_MAX_BYTES shorter');
      assert.equal(sourced(path), 'fourth\n');
      file.write('echo fifth — ü\n');
      assert.equal(sourced(path), 'fifth — ü\n', 'lengths are bytes, not characters');
    } finally {
      file.close();
    }
  });

  it('a job file left by an earlier shell is cut when it is opened again', () => {
    const path = join(dir, 'reopened');
    const earlier = new JobFile(path);
    earlier.write(`echo old; : ${'z'.repeat(300)}\n`);
    earlier.close();
    const next = new JobFile(path);
    try {
      next.write('echo new\n');
      assert.equal(readFileSync(path, 'utf8'), 'echo new\n');
    } finally {
      next.close();
    }
  });
});
