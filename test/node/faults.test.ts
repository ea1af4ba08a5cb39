import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

const env = await startRelay({ backend: 'bubblewrap' });
after(() => env.close());

/** Host pids of the bwrap processes holding one sandbox (found by its workspace bind in their arguments). */
/** The sandbox's bwrap processes: the one the relay started (its instance's `hostPid`) and the bwraps below it. */
function bwrapPids(sandboxId: string): number[] {
  const hostPid = env.relay.pool.runtimes().find((runtime) => runtime.id === sandboxId)?.instance?.hostPid;
  if (hostPid === undefined) return [];
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  const rows = table.split('\n').map((line) => line.trim().split(/\s+/)).filter((row) => row.length === 3);
  const found = [hostPid];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid, comm] of rows) {
      if (comm === 'bwrap' && found.includes(Number(ppid)) && !found.includes(Number(pid))) {
        found.push(Number(pid));
        grew = true;
      }
    }
  }
  return found;
}

/** Host pid of a session's bash, found by the control path its environment was started with. */
function sessionBashPid(sessionId: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'bash') continue;
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').some((line) => line.startsWith('__ST_CTL=') && line.endsWith(`/${sessionId}`))) return Number(entry);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  throw new Error(`no bash found for session ${sessionId}`);
}

describe('a killed shell reports its signal', () => {
  it('exec of `kill -9 $$` in a session: exit code 137, signal 9, no success; the session is exited with the same', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const viewer = await TerminalClient.open(sandbox, session);
    const result = await sandbox.exec('kill -9 $$', { session });
    assert.deepEqual([result.success, result.exitCode, result.signal], [false, 137, 9]);
    const exit = await viewer.waitForControl('exit');
    assert.deepEqual([exit.exitCode, exit.signal], [137, 9]);
    const info = await sandbox.getSession(session);
    assert.deepEqual([info.status, info.exitCode, info.signal], ['exited', 137, 9]);
    viewer.close();
  });

  it('a host-side kill -9 of the session\'s bash: exited with 137 and signal 9, and a later viewer is told the same', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    process.kill(sessionBashPid(session), 'SIGKILL');
    await waitFor(async () => (await sandbox.getSession(session)).status === 'exited', 'session reported exited');
    const info = await sandbox.getSession(session);
    assert.deepEqual([info.exitCode, info.signal], [137, 9]);
    const late = new TerminalClient(sandbox.terminalUrl(session));
    const exit = await late.waitForControl('exit');
    assert.deepEqual([exit.exitCode, exit.signal], [137, 9]);
    late.close();
  });

  it('a one-off exec killed by a signal says so too', async () => {
    const result = await env.sandbox().exec('kill -TERM $$');
    assert.deepEqual([result.success, result.exitCode, result.signal], [false, 143, 15]);
  });
});

describe('faults', () => {
  it('kill -9 of a session\'s bash: the session reports exited (viewers get exit), and restartSession brings it back', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const viewer = await TerminalClient.open(sandbox, session);
    const pid = (await sandbox.exec('echo $$', { session })).stdout.trim();
    assert.match(pid, /^\d+$/);
    // From another process in the same sandbox, as a user's runaway script might.
    await sandbox.exec(`kill -9 ${pid}`);
    const exit = await viewer.waitForControl('exit');
    assert.equal(exit.signal !== null || exit.exitCode !== 0, true);
    await waitFor(async () => (await sandbox.getSession(session)).status === 'exited', 'session reported exited');
    const refused = await sandbox.exec('echo no', { session }).catch((error: { code?: string }) => error);
    assert.equal((refused as { code?: string }).code, 'SESSION_EXITED');
    assert.equal((await sandbox.restartSession(session)).status, 'active');
    assert.equal((await sandbox.exec('echo back-$((1+1))', { session })).stdout, 'back-2\n');
    viewer.close();
  });

  it('kill -9 of the sandbox\'s bwrap processes: the sandbox is reported stopped and its sessions are recreated on next use', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.exec('cd /tmp && export FAULT_KEPT=yes', { session });
    const viewer = await TerminalClient.open(sandbox, session);
    const pids = bwrapPids(sandbox.id);
    assert.ok(pids.length >= 1, 'no bwrap process found for the sandbox');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor(() => env.relay.pool.runtimes().find((runtime) => runtime.id === sandbox.id)?.running === false, 'the relay noticed the sandbox died');
    const result = await sandbox.exec('echo "recreated-$FAULT_KEPT"; pwd', { session });
    assert.equal(result.sessionRecreated, true, 'the recreation was not said out loud');
    assert.equal(result.recreationReason, 'sandbox-stopped');
    const told = await viewer.waitForControl('session-recreated');
    assert.deepEqual([told.reason, told.cwd], ['sandbox-stopped', '/tmp']);
    await viewer.waitForOutput('the sandbox was stopped: session restored in /tmp');
    viewer.close();
    assert.equal(result.stdout, 'recreated-yes\n/tmp\n');
    assert.equal((await sandbox.exec('echo one-shot-works')).stdout, 'one-shot-works\n');
  });
});
