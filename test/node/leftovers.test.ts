// What a relay leaves on the host (issue 16, item 11): nothing after a clean stop, and what a `kill -9` left behind
// is removed by the next relay's start.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getSandbox } from '@sandbox-terminal/client';
import { hostPidsRunning, spawnRelayProcess, waitFor } from './helpers.ts';

const TEST_TIMEOUT_MS = 180_000;
const CGROUP_CONTROLLERS = ['pids', 'memory', 'cpu'].map((controller) => join('/sys/fs/cgroup', controller)).filter((root) => existsSync(root));

function runtimeDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('sandbox-terminal-run-'));
}

/** The cgroup directories a relay process made: one parent per controller, named after its pid. */
function cgroupsOf(pid: number): string[] {
  return CGROUP_CONTROLLERS.map((root) => join(root, `sandbox-terminal-${pid}`)).filter((dir) => existsSync(dir));
}

/** Starts a relay process with `count` running sandboxes, each with a session and a marker process. */
async function relayWithSandboxes(dataDir: string, count: number, marker: string) {
  const relay = await spawnRelayProcess(['--data-dir', dataDir]);
  await Promise.all(Array.from({ length: count }, async (_, index) => {
    const sandbox = getSandbox(relay.url, `left-${index}`);
    const session = await sandbox.createSession();
    await sandbox.exec(`${marker} >/dev/null 2>&1 &`, { session });
  }));
  await waitFor(() => hostPidsRunning(marker).length === count, `${count} marker processes`);
  // Named after the relay's pid: other relays on the machine (other tests, other users) make theirs meanwhile.
  return { relay, runtime: runtimeDirs().filter((name) => name.startsWith(`sandbox-terminal-run-${relay.pid}-`)) };
}

describe('leftovers', () => {
  it('a relay stopped cleanly with running sandboxes leaves no cgroup, runtime directory or process', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'leftovers-clean-'));
    const marker = `sleep 5151.${process.pid % 1000}`;
    try {
      const { relay, runtime } = await relayWithSandboxes(dataDir, 8, marker);
      try {
        assert.equal(runtime.length, 1, 'the relay made one runtime directory');
        if (CGROUP_CONTROLLERS.length) assert.ok(cgroupsOf(relay.pid).length > 0, 'the relay made cgroups');
      } finally {
        await relay.stop();
      }
      assert.deepEqual(cgroupsOf(relay.pid), [], 'cgroups left after a clean stop');
      assert.ok(!runtimeDirs().includes(runtime[0]!), 'the runtime directory was left');
      assert.deepEqual(hostPidsRunning(marker), [], 'sandbox processes outlived the relay');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('what a kill -9 left behind is removed when the next relay starts', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'leftovers-killed-'));
    const marker = `sleep 5252.${process.pid % 1000}`;
    try {
      const { relay, runtime } = await relayWithSandboxes(dataDir, 3, marker);
      relay.kill('SIGKILL');
      await relay.exited;
      // The sandboxes die with the relay (bwrap --die-with-parent); their directories stay until someone removes them.
      await waitFor(() => hostPidsRunning(marker).length === 0, 'the killed relay\'s sandbox processes to end');
      assert.ok(runtimeDirs().includes(runtime[0]!), 'kill -9 left the runtime directory (the case under test)');
      const next = await spawnRelayProcess(['--data-dir', dataDir]);
      try {
        assert.deepEqual(cgroupsOf(relay.pid), [], 'the dead relay\'s cgroups are still there');
        assert.ok(!runtimeDirs().includes(runtime[0]!), 'the dead relay\'s runtime directory is still there');
        // The new relay works with the same data: the sessions come back.
        const sandbox = getSandbox(next.url, 'left-0');
        const [session] = await sandbox.listSessions();
        assert.equal((await sandbox.exec('echo back', { session: session!.id })).stdout, 'back\n');
      } finally {
        await next.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
