import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
    const pids = bwrapPids(sandbox.id);
    assert.ok(pids.length >= 1, 'no bwrap process found for the sandbox');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor(() => env.relay.pool.runtimes().find((runtime) => runtime.id === sandbox.id)?.running === false, 'the relay noticed the sandbox died');
    const result = await sandbox.exec('echo "recreated-$FAULT_KEPT"; pwd', { session });
    assert.equal(result.sessionRecreated, true, 'the recreation was not said out loud');
    assert.equal(result.stdout, 'recreated-yes\n/tmp\n');
    assert.equal((await sandbox.exec('echo one-shot-works')).stdout, 'one-shot-works\n');
  });
});
