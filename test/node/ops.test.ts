import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BubblewrapBackend, DEFAULT_SANDBOX_IDS, UnisolatedBackend, type SandboxBackend } from '@sandbox-terminal/server';
import { getSandbox } from '@sandbox-terminal/client';
import { pino } from 'pino';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

/** Every log line of a relay, parsed (pino writes one JSON object a line). */
type LogLine = Record<string, unknown> & { level: number; msg: string };
const PINO_ERROR = 50;

function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

const logs = capturingLogger();
const env = await startRelay({ logger: logs.logger });
after(() => env.close());

/** The samples of one scrape of /metrics, keyed as exposed: `name{label="value",…}`. */
async function scrape(url = env.relay.url): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

/** How much each sample moved between two scrapes (absent before counts as 0). */
function delta(before: Map<string, number>, after: Map<string, number>, key: string): number {
  assert.ok(after.has(key), `/metrics has no ${key}`);
  return after.get(key)! - (before.get(key) ?? 0);
}

describe('/metrics', () => {
  it('counts terminal bytes both ways and shows the viewer and the session', async () => {
    const sandbox = env.sandbox();
    const before = await scrape();
    const session = await sandbox.createSession();
    const terminal = new TerminalClient(sandbox.terminalUrl(session));
    let received = 0;
    terminal.ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) received += data.length;
    });
    await terminal.opened;
    await terminal.waitForControl('ready');
    await terminal.waitForPrompt();
    const typed = 'echo "metrics-$((6*7))"\r';
    terminal.type(typed);
    await terminal.waitForOutput('metrics-42\r\n');
    await terminal.waitForPrompt();

    const during = await scrape();
    assert.equal(delta(before, during, 'sandbox_relay_terminal_input_bytes_total'), Buffer.byteLength(typed));
    assert.equal(delta(before, during, 'sandbox_relay_viewers'), 1);
    assert.equal(delta(before, during, 'sandbox_relay_sessions{status="active"}'), 1);
    assert.ok(during.get('sandbox_relay_sandboxes_running')! >= 1);
    // The shell is quiet now: what the relay counted as sent is exactly what this viewer got (replay included).
    await waitFor(
      async () => delta(before, await scrape(), 'sandbox_relay_terminal_output_bytes_total') === received,
      'the output byte count to match what the viewer received',
    );
    terminal.close();
    await waitFor(async () => delta(before, await scrape(), 'sandbox_relay_viewers') === 0, 'the viewer to be gone from the gauge');
  });

  it('counts execs by kind and outcome, with their latency', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const before = await scrape();
    assert.equal((await sandbox.exec('true', { session })).exitCode, 0);
    assert.equal((await sandbox.exec('sh -c "exit 3"', { session })).exitCode, 3);
    assert.equal((await sandbox.exec('sleep 30', { session, timeout: 300 })).timedOut, true);
    assert.equal((await sandbox.exec('echo one-shot')).stdout, 'one-shot\n');
    await assert.rejects(sandbox.exec('true', { session: 'no-such-session' }));

    const after = await scrape();
    assert.equal(delta(before, after, 'sandbox_relay_execs_total{kind="session",outcome="ok"}'), 1);
    assert.equal(delta(before, after, 'sandbox_relay_execs_total{kind="session",outcome="failed"}'), 1);
    assert.equal(delta(before, after, 'sandbox_relay_execs_total{kind="session",outcome="timeout"}'), 1);
    assert.equal(delta(before, after, 'sandbox_relay_execs_total{kind="session",outcome="error"}'), 1);
    assert.equal(delta(before, after, 'sandbox_relay_execs_total{kind="one_shot",outcome="ok"}'), 1);
    assert.equal(delta(before, after, 'sandbox_relay_exec_duration_seconds_count{kind="session"}'), 4);
    assert.equal(delta(before, after, 'sandbox_relay_exec_duration_seconds_count{kind="one_shot"}'), 1);
    // The timed-out exec alone took at least its 300 ms timeout.
    assert.ok(delta(before, after, 'sandbox_relay_exec_duration_seconds_sum{kind="session"}') >= 0.3);
  });

  it('counts a sleep and the recreation it causes, but not a restart', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.exec('cd /tmp', { session });
    const before = await scrape();
    await env.relay.sleepSandbox(sandbox.id);
    const asleep = await scrape();
    assert.equal(delta(before, asleep, 'sandbox_relay_sandbox_sleeps_total'), 1);
    assert.equal(delta(before, asleep, 'sandbox_relay_sessions{status="sleeping"}'), 1);
    assert.equal(delta(before, asleep, 'sandbox_relay_sandboxes_running'), -1);

    const woken = await sandbox.exec('pwd', { session });
    assert.deepEqual([woken.sessionRecreated, woken.stdout], [true, '/tmp\n']);
    assert.equal(delta(before, await scrape(), 'sandbox_relay_session_recreations_total{reason="slept"}'), 1);

    await sandbox.restartSession(session);
    assert.equal(delta(before, await scrape(), 'sandbox_relay_session_recreations_total{reason="slept"}'), 1, 'a restart is a new shell, not a recreation');
    const recreatedLine = logs.lines.find((line) => line.msg === 'session recreated' && line.session === session);
    assert.equal(recreatedLine?.sandbox, sandbox.id, 'the log line names the sandbox and the session');
  });

  it('is a separate registry per relay: a second relay in the process starts from zero', async () => {
    const other = await startRelay();
    try {
      await other.sandbox().exec('true');
      const samples = await scrape(other.relay.url);
      const execs = [...samples].filter(([key]) => key.startsWith('sandbox_relay_execs_total{'));
      assert.equal(execs.reduce((sum, [, value]) => sum + value, 0), 1, 'only its own exec, not the first relay\'s');
      assert.equal(samples.get('sandbox_relay_sandboxes'), 1);
    } finally {
      await other.close();
    }
  });
});

describe('request ids and logs', () => {
  it('a sane x-request-id is echoed and names the request in the log', async () => {
    const sandbox = env.sandbox();
    const response = await fetch(`${env.relay.url}/v1/sandboxes/${sandbox.id}/sessions/nope`, { headers: { 'x-request-id': 'trace-4f2a.9' } });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('x-request-id'), 'trace-4f2a.9');
    const line = await waitFor(() => logs.lines.find((candidate) => candidate.requestId === 'trace-4f2a.9' && candidate.msg === 'http request'), 'the request log line');
    assert.equal(line.level, 20, 'logged at debug');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, 'GET /v1/sandboxes/:sandbox/sessions/:session');
    assert.equal(line.status, 404);
    assert.equal(typeof line.durationMs, 'number');
    assert.deepEqual([line.sandbox, line.session], [sandbox.id, 'nope']);
  });

  it('without one, or with one that is not a plain short token, the relay makes its own', async () => {
    const cases: Record<string, string>[] = [{}, { 'x-request-id': 'has spaces and "quotes"' }, { 'x-request-id': 'x'.repeat(200) }];
    for (const headers of cases) {
      const response = await fetch(`${env.relay.url}/healthz`, { headers });
      assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it('an INTERNAL error is logged at error with its request id, sandbox and stack', async () => {
    const captured = capturingLogger();
    const broken = await startRelay({ logger: captured.logger, backend: failingCommands(BubblewrapBackend.probe(DEFAULT_SANDBOX_IDS).ok ? new BubblewrapBackend({ ids: DEFAULT_SANDBOX_IDS, network: { allow: [] } }) : new UnisolatedBackend()) });
    try {
      const sandbox = getSandbox(broken.relay.url, 'broken-box');
      const response = await fetch(`${broken.relay.url}/v1/sandboxes/broken-box/exec`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-internal-1' },
        body: JSON.stringify({ command: 'true' }),
      });
      assert.equal(response.status, 500);
      assert.equal(((await response.json()) as { code: string }).code, 'INTERNAL');
      const line = captured.lines.find((candidate) => candidate.level === PINO_ERROR && candidate.requestId === 'req-internal-1');
      assert.ok(line, 'an error line with the request id');
      assert.equal(line.sandbox, sandbox.id);
      assert.match(String((line.err as { stack?: string }).stack), /the disk is on fire/);
      assert.equal((await scrape(broken.relay.url)).get('sandbox_relay_execs_total{kind="one_shot",outcome="error"}'), 1);
    } finally {
      await broken.close();
    }
  });
});

/** A real backend whose one-off commands fail with a plain Error: a stand-in for a bug. */
function failingCommands(backend: SandboxBackend): SandboxBackend {
  return {
    name: backend.name,
    isolated: backend.isolated,
    ...(backend.ids ? { ids: backend.ids } : {}),
    async start(spec) {
      const instance = await backend.start(spec);
      instance.spawnCommand = () => {
        throw new Error('the disk is on fire');
      };
      return instance;
    },
  };
}
