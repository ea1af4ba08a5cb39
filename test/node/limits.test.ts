import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { SandboxError } from '@sandbox-terminal/client';
import { DEFAULT_LIMITS } from '@sandbox-terminal/server';
import { TERMINAL_CLOSE_CODES, TERMINAL_MAX_COLS, apiPaths } from '@sandbox-terminal/protocol';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

const MESSAGES_PER_SECOND = 20;
const env = await startRelay({ limits: { sandboxesPerRelay: 2, terminalMessagesPerSecond: MESSAGES_PER_SECOND } });
after(() => env.close());

async function refusal(call: Promise<unknown>): Promise<SandboxError> {
  const error = await call.then(
    () => assert.fail('the call was allowed'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof SandboxError, `not a SandboxError: ${String(error)}`);
  return error;
}

describe('limits', () => {
  it('sandboxesPerRelay: one more running sandbox is refused with LIMIT_EXCEEDED; the running ones go on, and a sleep frees a place', async () => {
    const [first, second, third] = [env.sandbox(), env.sandbox(), env.sandbox()];
    assert.equal((await first.exec('echo one')).stdout, 'one\n');
    assert.equal((await second.exec('echo two')).stdout, 'two\n');
    const error = await refusal(third.exec('echo three'));
    assert.equal(error.code, 'LIMIT_EXCEEDED');
    assert.equal(error.status, 413);
    assert.equal(error.details?.limit, 'sandboxesPerRelay');
    assert.equal((await first.exec('echo still-one')).stdout, 'still-one\n');
    await env.relay.sleepSandbox(second.id);
    assert.equal((await third.exec('echo three')).stdout, 'three\n');
    await env.relay.sleepSandbox(first.id);
    await env.relay.sleepSandbox(third.id);
  });

  it('terminalMessagesPerSecond: a flood gets one LIMIT_EXCEEDED, its excess frames are dropped, the connection stays and other viewers are unaffected', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const flooder = await TerminalClient.open(sandbox, session);
    const bystander = await TerminalClient.open(sandbox, session);
    const FLOOD = 200;
    for (let i = 0; i < FLOOD; i++) flooder.control({ type: 'ping' });
    const error = await flooder.waitForControl('error');
    assert.equal(error.code, 'LIMIT_EXCEEDED');
    assert.equal((error as { details?: { limit?: string } }).details?.limit, 'terminalMessagesPerSecond');
    const pongs = () => flooder.controls.filter((message) => message.type === 'pong').length;
    await waitFor(() => pongs() >= 1, 'some pongs');
    assert.ok(pongs() < FLOOD, `all ${FLOOD} pings were answered`);
    // Another connection has its own budget.
    for (let i = 0; i < 10; i++) bystander.control({ type: 'ping' });
    await waitFor(() => bystander.controls.filter((message) => message.type === 'pong').length === 10, 'ten pongs for the bystander');
    assert.equal(bystander.controls.some((message) => message.type === 'error'), false);
    assert.equal(flooder.controls.filter((message) => message.type === 'error').length, 1, 'one error for the whole flood');
    // The bucket refills: the flooder's connection is still up and its input reaches the shell again (typed until a
    // frame gets through: each frame is whole or dropped, so the command runs once or more, never cut).
    await waitFor(() => {
      if (!flooder.output.includes('refilled-5')) flooder.type('echo refilled-$((2+3))\r');
      return flooder.output.includes('refilled-5');
    }, 'typed input after the refill');
    assert.equal(flooder.closeCode, undefined);
    flooder.close();
    bystander.close();
  });
});

describe('limits on sessions, viewers, messages, bodies and files', async () => {
  const SMALL = {
    viewersPerSession: 2,
    sessionsPerSandbox: 3,
    fileBytes: 64 * 1024,
    jsonBodyBytes: 16 * 1024,
    terminalMessageBytes: 64 * 1024,
  };
  const small = await startRelay({ limits: SMALL });
  after(() => small.close());

  it('viewersPerSession: one viewer too many is refused with LIMIT_EXCEEDED and close code 4413; the others keep working', async () => {
    const sandbox = small.sandbox();
    const session = await sandbox.createSession();
    const viewers = [await TerminalClient.open(sandbox, session), await TerminalClient.open(sandbox, session)];
    const extra = new TerminalClient(sandbox.terminalUrl(session));
    const error = await extra.waitForControl('error');
    assert.equal(error.code, 'LIMIT_EXCEEDED');
    assert.equal(error.details?.limit, 'viewersPerSession');
    assert.equal(await extra.waitForClose(), TERMINAL_CLOSE_CODES.LIMIT_EXCEEDED);
    viewers[0]!.type('echo viewers-$((1+1))\r');
    await viewers[1]!.waitForOutput('viewers-2\r\n');
    // A place freed is a place taken.
    viewers[0]!.close();
    await viewers[0]!.waitForClose();
    const next = await waitFor(async () => {
      const candidate = new TerminalClient(sandbox.terminalUrl(session));
      const outcome = await Promise.race([candidate.waitForControl('ready').then(() => 'ready'), candidate.waitForClose().then(() => 'closed')]);
      return outcome === 'ready' ? candidate : undefined;
    }, 'a viewer admitted after one left');
    next.close();
    viewers[1]!.close();
  });

  it('sessionsPerSandbox: one session too many is refused; the existing ones run and deleting one frees a place', async () => {
    const sandbox = small.sandbox();
    const sessions = [];
    for (let i = 0; i < SMALL.sessionsPerSandbox; i++) sessions.push(await sandbox.createSession());
    const error = await refusal(sandbox.createSession());
    assert.equal(error.code, 'LIMIT_EXCEEDED');
    assert.equal(error.details?.limit, 'sessionsPerSandbox');
    assert.equal((await sandbox.exec('echo still-$((2+2))', { session: sessions[0]! })).stdout, 'still-4\n');
    await sandbox.deleteSession(sessions[1]!);
    assert.ok(await sandbox.createSession());
  });

  it('fileBytes: writing or reading a file over the limit is refused; one at the limit is not', async () => {
    const sandbox = small.sandbox();
    await sandbox.writeFile('/workspace/at-limit.bin', new Uint8Array(SMALL.fileBytes).fill(7));
    assert.equal((await sandbox.readFile('/workspace/at-limit.bin', { encoding: 'binary' })).length, SMALL.fileBytes);
    const tooBig = await refusal(sandbox.writeFile('/workspace/too-big.bin', new Uint8Array(SMALL.fileBytes + 1)));
    assert.equal(tooBig.code, 'LIMIT_EXCEEDED');
    assert.equal(tooBig.details?.limit, 'fileBytes');
    assert.equal(await sandbox.exists('/workspace/too-big.bin'), false, 'nothing of the refused file was written');
    // Made inside the sandbox, where the relay cannot stop it: reading it back is what the limit refuses.
    await sandbox.exec(`head -c ${SMALL.fileBytes + 1} /dev/zero > /workspace/grown.bin`);
    const readBack = await refusal(sandbox.readFile('/workspace/grown.bin'));
    assert.equal(readBack.code, 'LIMIT_EXCEEDED');
    assert.equal(readBack.details?.limit, 'fileBytes');
  });

  it('jsonBodyBytes: a JSON body over the limit is refused with 413 before it is parsed', async () => {
    const sandbox = small.sandbox();
    const error = await refusal(sandbox.exec('true', { env: { PADDING: 'x'.repeat(SMALL.jsonBodyBytes) } }));
    assert.equal(error.code, 'LIMIT_EXCEEDED');
    assert.equal(error.status, 413);
    assert.equal(error.details?.limit, 'jsonBodyBytes');
    assert.equal((await sandbox.exec('echo body-ok')).stdout, 'body-ok\n');
  });

  it('terminalMessageBytes: a frame over the limit closes that socket with 1009; the session and its other viewers go on', async () => {
    const sandbox = small.sandbox();
    const session = await sandbox.createSession();
    const sender = await TerminalClient.open(sandbox, session);
    const bystander = await TerminalClient.open(sandbox, session);
    sender.type('x'.repeat(SMALL.terminalMessageBytes + 1));
    assert.equal(await sender.waitForClose(), 1009);
    bystander.type('\x15echo frame-$((3+4))\r');
    await bystander.waitForOutput('frame-7\r\n');
    assert.equal(bystander.closeCode, undefined);
    assert.equal(bystander.output.includes('xxxx'), false, 'none of the oversized frame reached the shell');
    bystander.close();
  });

  it('resize bounds: a size outside them gets LIMIT_EXCEEDED naming terminalCols or terminalRows; the size stays, the connection too', async () => {
    const sandbox = small.sandbox();
    const session = await sandbox.createSession();
    const terminal = await TerminalClient.open(sandbox, session, { cols: 90, rows: 30 });
    terminal.control({ type: 'resize', cols: TERMINAL_MAX_COLS + 1, rows: 30 });
    terminal.control({ type: 'resize', cols: 90, rows: 0 });
    await waitFor(() => terminal.controls.filter((message) => message.type === 'error').length === 2, 'two errors');
    const errors = terminal.controls.filter((message) => message.type === 'error');
    assert.deepEqual(errors.map((error) => [error.code, error.details?.limit]), [['LIMIT_EXCEEDED', 'terminalCols'], ['LIMIT_EXCEEDED', 'terminalRows']]);
    terminal.type('stty size\r');
    await terminal.waitForOutput('30 90');
    assert.equal(terminal.closeCode, undefined);
    terminal.close();
  });
});

describe('per-sandbox resources (cgroups)', async () => {
  const PROCESSES = 24;
  const CPU_CORES = 0.2;
  const bounded = await startRelay({ limits: { sandboxProcesses: PROCESSES, sandboxMemoryBytes: 64 * 1024 * 1024, sandboxCpuCores: CPU_CORES } });
  after(() => bounded.close());

  it('sandboxProcesses: forking past the limit fails inside the sandbox; the sandbox, its other sessions and other sandboxes go on', async () => {
    const sandbox = bounded.sandbox();
    const session = await sandbox.createSession();
    // dash reports a failed fork at once (bash would retry for half a minute); `kill -9 0` then ends the whole group.
    const flood = await sandbox.exec(`sh -c 'i=0; while [ $i -lt ${PROCESSES * 2} ]; do sleep 30 & i=$((i+1)); done; echo spawned-all'; echo "sh-exit=$?"; kill -9 0`);
    assert.equal(flood.stdout.includes('spawned-all'), false, 'every fork succeeded: the process limit is not applied');
    assert.match(flood.stdout, /sh-exit=2/);
    assert.match(flood.stderr, /Cannot fork/);
    assert.deepEqual(flood.limitsHit, ['sandboxProcesses'], 'the result names the limit the sandbox hit');
    assert.equal((await sandbox.exec('echo session-alive', { session })).stdout, 'session-alive\n');
    assert.equal((await bounded.sandbox().exec('echo neighbour-alive')).stdout, 'neighbour-alive\n');
  });

  it('sandboxCpuCores: a busy loop gets about its share of a core, not a whole one', async () => {
    const sandbox = bounded.sandbox();
    // One second of wall time spinning; bash's `times` then reports the CPU its children used (user, system).
    const spin = await sandbox.exec(`timeout 1 sh -c 'while :; do :; done'; times`);
    const childLine = spin.stdout.trim().split('\n')[1] ?? '';
    const seconds = [...childLine.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, match) => sum + Number(match[1]) * 60 + Number(match[2]), 0);
    assert.ok(childLine.length > 0, `no times output: ${JSON.stringify(spin.stdout)}`);
    assert.ok(seconds < CPU_CORES * 2.5, `the loop used ${seconds}s of CPU in 1 s with a ${CPU_CORES}-core quota`);
  });

  it('sandboxMemoryBytes: a process over the limit is killed inside the sandbox; the next command runs', async () => {
    const sandbox = bounded.sandbox();
    const hog = await sandbox.exec(`x=$(head -c ${128 * 1024 * 1024} /dev/zero | tr '\\0' a); echo "held \${#x}"`);
    assert.equal(hog.stdout.includes('held'), false, 'the hog kept 128 MiB: the memory limit is not applied');
    assert.notEqual(hog.exitCode, 0);
    assert.deepEqual(hog.limitsHit, ['sandboxMemoryBytes'], 'the result names the limit the sandbox hit');
    const after = await sandbox.exec('echo after-oom');
    assert.equal(after.stdout, 'after-oom\n');
    assert.equal(after.limitsHit, undefined, 'a command that hit no limit names none');
  });
});

describe('httpRequestsPerSecond', async () => {
  const PER_SECOND = 20;
  const limited = await startRelay({ limits: { httpRequestsPerSecond: PER_SECOND } });
  after(() => limited.close());

  it('a burst over the limit gets 429 LIMIT_EXCEEDED; health checks and terminals are not counted; the bucket refills', async () => {
    const sandbox = limited.sandbox();
    const session = await sandbox.createSession();
    const terminal = await TerminalClient.open(sandbox, session);
    const BURST = PER_SECOND * 3;
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: BURST }, () => sandbox.listSessions().then(() => 'ok', (error: unknown) => error)));
    const seconds = (performance.now() - started) / 1000;
    const refused = outcomes.filter((outcome): outcome is SandboxError => outcome instanceof SandboxError);
    const allowed = BURST - refused.length;
    // The bucket: PER_SECOND at once, then PER_SECOND a second for as long as the burst took to arrive.
    assert.ok(allowed <= PER_SECOND * (1 + seconds) + 1, `${allowed} of ${BURST} allowed in ${seconds.toFixed(2)} s`);
    assert.ok(allowed >= 1, 'every request was refused');
    for (const error of refused) {
      assert.equal(error.code, 'LIMIT_EXCEEDED');
      assert.equal(error.status, 429);
      assert.equal(error.details?.limit, 'httpRequestsPerSecond');
    }
    assert.equal((await fetch(`${limited.relay.url}/healthz`)).status, 200);
    terminal.type('echo still-typing-$((2*21))\r');
    await terminal.waitForOutput('still-typing-42');
    await waitFor(async () => (await sandbox.exec('echo refilled', { session }).catch(() => undefined))?.stdout === 'refilled\n', 'an exec once the bucket refilled');
    terminal.close();
  });

  it('behind a proxy (trustProxy) each forwarded client has its own bucket; without it, a forged header changes nothing', async () => {
    const burst = (relay: string, forwardedFor: string) =>
      Promise.all(Array.from({ length: PER_SECOND * 2 }, () => fetch(`${relay}/v1/sandboxes/xff-box/sessions`, { headers: { 'x-forwarded-for': forwardedFor } }).then((response) => response.status)));
    const proxied = await startRelay({ trustProxy: true, limits: { httpRequestsPerSecond: PER_SECOND } });
    try {
      // The first client uses its bucket up; the second, behind the same proxy, still has a full one.
      const first = await burst(proxied.relay.url, '203.0.113.1');
      const second = await burst(proxied.relay.url, '203.0.113.2');
      assert.ok(first.includes(429), 'the first client was never limited');
      assert.ok(second.filter((status) => status === 200).length >= PER_SECOND, `the second client shared the first's bucket: ${second.join(',')}`);
      // Without trustProxy the header is the client's to write: it is ignored, and the address is the socket's.
      const direct = await startRelay({ limits: { httpRequestsPerSecond: PER_SECOND } });
      try {
        await burst(direct.relay.url, '203.0.113.3');
        const forged = await burst(direct.relay.url, '203.0.113.4');
        assert.ok(forged.filter((status) => status === 200).length < PER_SECOND, 'a new X-Forwarded-For got a fresh bucket without trustProxy');
      } finally {
        await direct.close();
      }
    } finally {
      await proxied.close();
    }
  });
});

describe('environment and JSON body limits', async () => {
  const relay = await startRelay();
  after(() => relay.close());

  /** `count` variables of `valueBytes` bytes each. */
  function envOf(count: number, valueBytes = 1): Record<string, string> {
    return Object.fromEntries(Array.from({ length: count }, (_, index) => [`VAR_${index}`, 'v'.repeat(valueBytes)]));
  }

  it('envEntries: one variable too many is refused for exec (one-off and in a session) and createSession; at the limit they run', async () => {
    const sandbox = relay.sandbox();
    const session = await sandbox.createSession();
    const tooMany = envOf(DEFAULT_LIMITS.envEntries + 1);
    for (const call of [sandbox.exec('true', { env: tooMany }), sandbox.exec('true', { session, env: tooMany }), sandbox.createSession({ env: tooMany })]) {
      const error = await refusal(call);
      assert.deepEqual([error.code, error.status, error.details?.limit], ['LIMIT_EXCEEDED', 413, 'envEntries']);
    }
    const atLimit = envOf(DEFAULT_LIMITS.envEntries);
    assert.equal((await sandbox.exec(`echo $VAR_${DEFAULT_LIMITS.envEntries - 1}`, { env: atLimit })).stdout, 'v\n');
    assert.equal((await sandbox.exec(`echo $VAR_0`, { session, env: atLimit })).stdout, 'v\n');
  });

  it('envBytes: variables over it are refused, before the kernel would (E2BIG); one just under it reaches the command', async () => {
    const sandbox = relay.sandbox();
    const error = await refusal(sandbox.exec('true', { env: { BIG: 'x'.repeat(DEFAULT_LIMITS.envBytes) } }));
    assert.deepEqual([error.code, error.details?.limit], ['LIMIT_EXCEEDED', 'envBytes']);
    const fits = DEFAULT_LIMITS.envBytes - 'BIG'.length - 2;
    const result = await sandbox.exec('echo ${#BIG}', { env: { BIG: 'x'.repeat(fits) } });
    assert.deepEqual([result.exitCode, result.stdout], [0, `${fits}\n`]);
  });

  it('jsonBodyValues: a body of 1.5 M env entries is refused while it arrives, and the event loop is never held for long', async () => {
    const sandbox = relay.sandbox();
    // Sent from another process: building and sending 24 MB would hold this process's loop, where the relay runs.
    const sender = `
      const env = {};
      for (let i = 0; i < 1_500_000; i++) env['VAR_' + i] = 'vvv';
      const body = Buffer.from(JSON.stringify({ command: 'true', env }));
      if (body.length >= ${DEFAULT_LIMITS.jsonBodyBytes}) throw new Error('the body must be under the byte limit');
      process.stdout.write('sending\\n');
      const response = await fetch(process.argv[1], { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      process.stdout.write(JSON.stringify({ status: response.status, body: await response.json() }));`;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    const healthMs: number[] = [];
    let sending = false;
    const poll = setInterval(() => {
      if (!sending) return;
      const asked = performance.now();
      void fetch(`${relay.relay.url}/healthz`).then(() => healthMs.push(performance.now() - asked));
    }, 50);
    const child = execFile(process.execPath, ['--input-type=module', '-e', sender, relay.relay.url + apiPaths.exec(sandbox.id)], { maxBuffer: 1024 * 1024 });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!sending && output.includes('sending')) {
        sending = true;
        delay.enable();
      }
    });
    await new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`the sender failed: ${output}`)))));
    delay.disable();
    clearInterval(poll);
    const answer = JSON.parse(output.slice(output.indexOf('{'))) as { status: number; body: { code: string; details?: { limit?: string } } };
    assert.equal(answer.status, 413);
    assert.deepEqual([answer.body.code, answer.body.details?.limit], ['LIMIT_EXCEEDED', 'jsonBodyValues']);
    const maxDelayMs = delay.max / 1e6;
    // The relay runs in this process, so its event loop is this one. On main this request held it for 5.1 s; here the
    // longest delay is ~20-40 ms on a quiet machine. The delay is wall-clock time, so on a shared 2-core machine under
    // the whole suite, waiting for a core adds to it (318 ms seen once): the bound fails main, not a busy machine.
    console.log(`# jsonBodyValues: event-loop delay max ${maxDelayMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; /healthz meanwhile at most ${Math.max(0, ...healthMs).toFixed(1)} ms (${healthMs.length} calls)`);
    assert.ok(maxDelayMs < 1_000, `the event loop was held for ${maxDelayMs.toFixed(0)} ms`);
    assert.equal((await sandbox.exec('echo still-serving')).stdout, 'still-serving\n');
  });
});

describe('terminalInputPendingBytes', async () => {
  const PENDING = 256 * 1024;
  const FRAME = 32 * 1024;
  const FRAMES = 20;
  const held = await startRelay({ limits: { terminalInputPendingBytes: PENDING } });
  after(() => held.close());
  // Raw mode, so the PTY queues every byte (no line editing); reads nothing until /workspace/go exists, then all of
  // it, and prints how much came and its digest.
  const SLOW_READER = [
    'import hashlib, os, select, time, tty',
    'tty.setraw(0)',
    "os.write(1, b'RAW-READY\\r\\n')",
    "while not os.path.exists('/workspace/go'): time.sleep(0.05)",
    'digest, count = hashlib.sha256(), 0',
    'while select.select([0], [], [], 1.0)[0]:',
    '    chunk = os.read(0, 65536)',
    '    count += len(chunk)',
    '    digest.update(chunk)',
    "os.write(1, f'GOT {count} {digest.hexdigest()}\\r\\n'.encode())",
  ].join('\n');

  it('a program that leaves its input unread: the relay holds up to the limit without spinning, refuses later frames whole, and what it took arrives complete and in order', async () => {
    const sandbox = held.sandbox();
    const session = await sandbox.createSession();
    const bystanderSession = await sandbox.createSession();
    await sandbox.writeFile('/workspace/slow-reader.py', SLOW_READER);
    const typist = await TerminalClient.open(sandbox, session);
    typist.type('python3 /workspace/slow-reader.py\r');
    await typist.waitForOutput('RAW-READY');
    // Each frame is its own letter, so a lost, repeated or reordered frame changes the digest.
    const frames = Array.from({ length: FRAMES }, (_, i) => Buffer.alloc(FRAME, 0x61 + i).toString('latin1'));
    for (const frame of frames) typist.type(frame);
    const refusals = () => typist.controls.filter((message) => message.type === 'error');
    await waitFor(() => refusals().length > 0, 'a refusal of input past the limit');
    const refusal = refusals()[0] as { code?: string; details?: { limit?: string; value?: number } };
    assert.equal(refusal.code, 'LIMIT_EXCEEDED');
    assert.equal(refusal.details?.limit, 'terminalInputPendingBytes');
    assert.equal(refusal.details?.value, PENDING);
    // The relay keeps trying the full PTY, but on a backing-off timer: it does not hold a core while it waits.
    const cpuBefore = process.cpuUsage();
    const waitedFrom = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const cpu = process.cpuUsage(cpuBefore);
    const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - waitedFrom);
    assert.ok(cpuShare < 0.3, `the relay's process was ${(cpuShare * 100).toFixed(0)}% busy while the input waited`);
    // Every other session goes on meanwhile.
    assert.equal((await sandbox.exec('echo alive-$((40+2))', { session: bystanderSession })).stdout, 'alive-42\n');
    const taken = FRAMES - refusals().length;
    assert.ok(taken * FRAME >= PENDING && taken < FRAMES, `${taken} of ${FRAMES} frames taken`);
    await sandbox.exec('touch /workspace/go');
    await typist.waitForOutput(/GOT \d+ [0-9a-f]{64}/, 20_000);
    const [, count, digest] = /GOT (\d+) ([0-9a-f]{64})/.exec(typist.output)!;
    const expected = frames.slice(0, taken).join('');
    assert.equal(Number(count), expected.length);
    assert.equal(digest, createHash('sha256').update(expected, 'latin1').digest('hex'));
    assert.equal(typist.closeCode, undefined);
    typist.close();
  });
});
