import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSandbox, type SandboxError } from '@sandbox-terminal/client';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

const env = await startRelay({ idleTimeoutMs: 1000 });
after(() => env.close());

describe('idle sleep and recreation', () => {
  it('after the idle timeout, exec on the old session id recreates it with its cwd and exported env', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.exec('mkdir -p /workspace/deep/dir && cd /workspace/deep/dir && export TOKEN="a b\'c\\"d" PLAIN=1 && NOT_EXPORTED=x', { session });
    await waitFor(async () => (await sandbox.getSession(session)).status === 'sleeping', 'the session to sleep');
    const result = await sandbox.exec('pwd; echo "$TOKEN|$PLAIN|${NOT_EXPORTED-gone}"', { session });
    assert.deepEqual([result.sessionRecreated, result.recreationReason], [true, 'slept']);
    assert.equal(result.stdout, '/workspace/deep/dir\na b\'c"d|1|gone\n');
    const again = await sandbox.exec('true', { session });
    assert.equal(again.sessionRecreated, false, 'said once, when it happened');
    assert.equal(again.recreationReason, undefined);
  });

  it('sleep stops every process of the sandbox and keeps /workspace', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.writeFile('/workspace/kept.txt', 'still here');
    await sandbox.exec('sleep 600 >/dev/null 2>&1 & echo $! > /tmp/pid', { session });
    await waitFor(async () => (await sandbox.getSession(session)).status === 'sleeping', 'the session to sleep');
    const result = await sandbox.exec('cat /workspace/kept.txt; echo; pgrep -c -f "sleep 600" || true; ls /tmp', { session });
    assert.equal(result.stdout, 'still here\n0\n');
  });

  it('a long exec keeps the sandbox awake', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const result = await sandbox.exec('sleep 2.5; echo finished', { session });
    assert.deepEqual([result.stdout, result.success], ['finished\n', true]);
  });

  it('a viewer is told the sandbox sleeps; its next keystroke wakes it, restores the session and runs', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const terminal = await TerminalClient.open(sandbox, session);
    terminal.type('cd /tmp && export WHO=me\r');
    await terminal.waitForOutput('/tmp');
    await terminal.waitForControl('sleeping');
    terminal.type('echo "[$PWD:$WHO]"\r');
    const recreated = await terminal.waitForControl('session-recreated');
    assert.equal(recreated.cwd, '/tmp');
    assert.equal(recreated.reason, 'slept');
    assert.ok(recreated.restoredEnv.includes('WHO'));
    await terminal.waitForOutput('[/tmp:me]');
    assert.match(terminal.output, /sandbox was asleep: session restored in \/tmp/);
    terminal.close();
  });

  it('commands see the environment a typed command would: no READLINE_* from the exec key, before a sleep or after it', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    // bash exports READLINE_LINE, _POINT and _MARK to the command of a `bind -x` key, which is how exec runs commands.
    const seen = await sandbox.exec('export KEEP=1; env | grep ^READLINE_ || echo none', { session });
    assert.equal(seen.stdout, 'none\n');
    const terminal = await TerminalClient.open(sandbox, session);
    await terminal.waitForControl('sleeping');
    terminal.type('env | grep -c ^READLINE_\r');
    const recreated = await terminal.waitForControl('session-recreated');
    assert.ok(recreated.restoredEnv.includes('KEEP'));
    assert.deepEqual(recreated.restoredEnv.filter((name) => name.startsWith('READLINE_')), [], 'not saved with the session');
    // The count printed after the typed line (bash turns bracketed paste off before it runs a line).
    await terminal.waitForOutput(/READLINE_\r\n(?:\x1b\[\?2004l\r)?0\r\n/);
    terminal.close();
  });

  it('attaching to a sleeping session recreates it: old scrollback, a marker line, then a new prompt', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.exec('echo before-sleep-output', { session });
    await waitFor(async () => (await sandbox.getSession(session)).status === 'sleeping', 'the session to sleep');
    const terminal = await TerminalClient.open(sandbox, session);
    const ready = await terminal.waitForControl('ready');
    assert.equal(ready.mode, 'recreated');
    const text = terminal.output;
    const old = text.indexOf('before-sleep-output');
    const marker = text.indexOf('sandbox was asleep');
    assert.ok(old >= 0 && marker > old, 'scrollback, then the marker');
    terminal.close();
  });

  it('a deleted session is SESSION_NOT_FOUND after sleep, never a silent fresh shell', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.deleteSession(session);
    await assert.rejects(sandbox.exec('true', { session }), (error: SandboxError) => error.code === 'SESSION_NOT_FOUND');
  });
});

const RELAY_BIN = new URL('../../server/bin/sandbox-relay.mjs', import.meta.url).pathname;

/** The relay CLI in a process of its own (so it can be killed with SIGKILL), and its URL once it listens. */
async function relayProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...process.execArgv, RELAY_BIN, '--port', '0', '--data-dir', dataDir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /"url":"(http:[^"]+)"/.exec(output);
      if (listening) resolve(listening[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code} before listening: ${output}`)));
  });
  child.stdout!.resume();
  return { child, url };
}

describe('session records', () => {
  it('after a kill -9 of the relay, a new relay recreates the session with what each earlier command exported, and says why', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-crash-'));
    const first = await relayProcess(dataDir);
    try {
      const sandbox = getSandbox(first.url, 'crash-box');
      const session = await sandbox.createSession({ id: 'crash-survivor' });
      await sandbox.exec('mkdir -p /workspace/w && cd /workspace/w && export WITH_CD=1', { session });
      // No cd: before, only a changed cwd made the relay save the session.
      await sandbox.exec('export BAZ=qux', { session });
      await sandbox.exec('unset WITH_CD', { session });
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const second = await relayProcess(dataDir);
      try {
        const again = getSandbox(second.url, 'crash-box');
        const result = await again.exec('pwd; echo "${BAZ-lost}|${WITH_CD-unset}"', { session });
        assert.deepEqual([result.sessionRecreated, result.recreationReason], [true, 'relay-restarted']);
        assert.equal(result.stdout, '/workspace/w\nqux|unset\n');
      } finally {
        second.child.kill('SIGKILL');
      }
    } finally {
      first.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an expired session record makes the id SESSION_NOT_FOUND', async () => {
    const short = await startRelay({ idleTimeoutMs: 1000, limits: { sessionRecordTtlMs: 1500 } });
    try {
      const sandbox = short.sandbox();
      const session = await sandbox.createSession();
      await waitFor(async () => (await sandbox.getSession(session).catch(() => undefined))?.status === 'sleeping', 'sleep');
      await waitFor(async () => (await sandbox.getSession(session).catch((error: SandboxError) => error.code)) === 'SESSION_NOT_FOUND', 'the record to expire');
      await assert.rejects(sandbox.exec('true', { session }), (error: SandboxError) => error.code === 'SESSION_NOT_FOUND');
    } finally {
      await short.close();
    }
  });

  it('with a data dir, sessions survive a relay restart with their cwd, env and files', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-restart-'));
    try {
      const first = await startRelay({ dataDir });
      const sandbox = first.sandbox('restart-box');
      const session = await sandbox.createSession({ id: 'survivor' });
      await sandbox.exec('mkdir -p /workspace/w && cd /workspace/w && export PERSIST=yes && echo data > f', { session });
      await first.close();
      const second = await startRelay({ dataDir });
      try {
        const again = second.sandbox('restart-box');
        const info = await again.getSession('survivor');
        assert.equal(info.status, 'sleeping');
        const result = await again.exec('pwd; echo $PERSIST; cat f', { session: 'survivor' });
        assert.deepEqual([result.sessionRecreated, result.recreationReason], [true, 'relay-restarted']);
        assert.equal(result.stdout, '/workspace/w\nyes\ndata\n');
        assert.deepEqual((await again.listSessions()).map((entry) => entry.id), ['survivor']);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
