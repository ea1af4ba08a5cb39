import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BubblewrapBackend, DEFAULT_SANDBOX_IDS, type SandboxInstance } from '@sandbox-terminal/server';
import { SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { makePrivateDirectory } from '../../server/src/sandbox/sandbox-ids.ts';
import { prepareWorkspace } from '../../server/src/sandbox/workspace-ownership.ts';
import { hostPidsRunning, startRelay, waitFor } from './helpers.ts';

// Our own data dir, so the test knows where workspaces live on the host and can look for them from inside.
const dataDir = mkdtempSync(join(tmpdir(), 'isolation-data-'));
const env = await startRelay({ dataDir });
after(async () => {
  await env.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const BUBBLEWRAP_REQUIRED =
  'these tests need the bubblewrap backend: install bubblewrap (apt-get install bubblewrap) and run the relay as root';

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function signalIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs `command` and returns its stdout, failing on a non-zero exit. */
async function run(sandbox: Sandbox, command: string, session?: string): Promise<string> {
  const result = await sandbox.exec(command, session ? { session, timeout: 60_000 } : { timeout: 60_000 });
  assert.equal(result.exitCode, 0, `${command}\n${result.stderr}`);
  return result.stdout;
}

describe('sandbox isolation (bubblewrap)', () => {
  it('the relay runs the bubblewrap backend', () => {
    assert.equal(env.relay.backend.name, 'bubblewrap', BUBBLEWRAP_REQUIRED);
    assert.equal(env.relay.backend.isolated, true, BUBBLEWRAP_REQUIRED);
  });

  describe('two sandboxes', () => {
    const a = env.sandbox();
    const b = env.sandbox();
    const secretName = `secret-${randomBytes(6).toString('hex')}.txt`;
    const secret = `the secret of B ${randomBytes(8).toString('hex')}`;
    let sessionA: string;
    let sessionB: string;
    before(async () => {
      [sessionA, sessionB] = await Promise.all([a.createSession(), b.createSession()]);
      await b.writeFile(`/workspace/${secretName}`, secret);
      await run(b, `cp /workspace/${secretName} /tmp/${secretName}`, sessionB);
    });

    it("sandbox A cannot find or read a file of sandbox B, by any path it could guess", async () => {
      assert.equal(await b.readFile(`/workspace/${secretName}`), secret, 'B can read its own file');
      const hostWorkspaceB = join(dataDir, 'sandboxes', b.id, 'workspace');
      assert.ok(existsSync(join(hostWorkspaceB, secretName)), 'the file is where the relay keeps B on the host');

      const guesses = [
        `/workspace/${secretName}`,
        `/tmp/${secretName}`,
        `${hostWorkspaceB}/${secretName}`,
        `/workspace/../${b.id}/workspace/${secretName}`,
        `/workspace/../../sandboxes/${b.id}/workspace/${secretName}`,
        `/workspace/../../../sandboxes/${b.id}/workspace/${secretName}`,
      ];
      const tried = await a.exec(guesses.map((path) => `cat '${path}' 2>/dev/null`).join('; ') + '; true', { session: sessionA });
      assert.equal(tried.stdout, '', 'no guessed path gave A the contents');

      const found = await a.exec(`find / -path /proc -prune -o -name '${secretName}' -print 2>/dev/null; true`, { session: sessionA, timeout: 60_000 });
      assert.equal(found.timedOut, false);
      assert.equal(found.stdout, '', 'find / inside A does not see the file');
      // The same search in B finds it, so the search itself works.
      const inB = await b.exec(`find / -path /proc -prune -o -name '${secretName}' -print 2>/dev/null; true`, { session: sessionB, timeout: 60_000 });
      assert.deepEqual(inB.stdout.trim().split('\n').sort(), [`/tmp/${secretName}`, `/workspace/${secretName}`]);

      await assert.rejects(a.readFile(`/workspace/${secretName}`), (error: unknown) => error instanceof SandboxError && error.code === 'FILE_NOT_FOUND');
      await assert.rejects(
        a.readFile(`/workspace/../${b.id}/workspace/${secretName}`),
        (error: unknown) => error instanceof SandboxError && error.code === 'PATH_OUTSIDE_WORKSPACE',
      );
    });

    it("sandbox A does not see or reach sandbox B's processes", async () => {
      const marker = `${300 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1000)}`;
      await run(b, `sleep ${marker} >/dev/null 2>&1 &`, sessionB);
      // Seen in B (once the background job has exec'd sleep): the check below is not vacuous.
      await waitFor(async () => (await run(b, `ps -eo args | grep -c '^sleep ${marker}$' || true`, sessionB)).trim() === '1', 'B to see its own sleep');

      const inA = await run(a, 'ps -eo args', sessionA);
      assert.doesNotMatch(inA, new RegExp(`sleep ${marker.replace('.', '\\.')}`));
      const pgrep = await a.exec(`pgrep -f 'sleep ${marker}'`, { session: sessionA });
      assert.equal(pgrep.exitCode, 1, 'pgrep finds nothing in A');
      // A sees only its own few processes: no host processes, no processes of other sandboxes.
      assert.ok(inA.trim().split('\n').length < 12, `A sees few processes:\n${inA}`);
      assert.doesNotMatch(inA, /\bnode\b|nsenter/);
      assert.ok(!inA.includes(`/${b.id}/`), `A sees a process of B:\n${inA}`);

      const still = await run(b, `ps -eo args | grep -c '^sleep ${marker}$' || true`, sessionB);
      assert.equal(still.trim(), '1', "B's process is still running");
      await run(b, 'kill $!', sessionB);
    });

    it('/tmp is shared by the sessions of one sandbox but not across sandboxes', async () => {
      const second = await b.createSession();
      assert.equal(await run(b, `cat /tmp/${secretName}`, second), secret, 'another session of B sees B\'s /tmp');
      assert.equal(await run(b, `cat /tmp/${secretName}`), secret, 'a one-off exec in B sees B\'s /tmp');
      const inA = await a.exec(`test -e /tmp/${secretName} && echo visible || echo absent`, { session: sessionA });
      assert.equal(inA.stdout, 'absent\n');
    });
  });

  describe('one sandbox', () => {
    const sandbox = env.sandbox();
    let session: string;
    before(async () => {
      session = await sandbox.createSession();
    });

    it('the hostname is sandbox and HOME is /workspace, in sessions and one-off execs', async () => {
      assert.equal(await run(sandbox, 'hostname; echo $HOME; cd && pwd', session), 'sandbox\n/workspace\n/workspace\n');
      assert.equal(await run(sandbox, 'hostname; echo $HOME'), 'sandbox\n/workspace\n');
    });

    it('host paths outside the read-only system dirs do not exist inside', async () => {
      const runtime = env.relay.pool.runtimes().find((candidate) => candidate.id === sandbox.id);
      assert.ok(runtime, 'the relay knows the sandbox');
      const hostPaths = ['/root', '/work', '/home', '/srv', '/var', '/mnt', dataDir, runtime.dirs.workspace, runtime.dirs.control, process.cwd()];
      const present = hostPaths.filter((path) => existsSync(path));
      for (const required of ['/root', dataDir, runtime.dirs.workspace, process.cwd()]) assert.ok(present.includes(required), `${required} exists on the host`);

      const visible = await sandbox.exec(present.map((path) => `test -e '${path}' && echo '${path}'`).join('; ') + '; true', { session });
      assert.equal(visible.stdout, '', 'host paths visible inside the sandbox');
      // The system dirs and the sandbox's own dirs are there.
      assert.equal(await run(sandbox, 'test -x /usr/bin/bash && test -d /etc && test -d /workspace && test -d /tmp && echo ok', session), 'ok\n');
    });

    it('the system dirs are read-only', async () => {
      for (const path of ['/usr/x', '/usr/lib/x', '/bin/x', '/etc/x', '/opt/x']) {
        const result = await sandbox.exec(`touch ${path}`, { session });
        assert.notEqual(result.exitCode, 0, `touch ${path} succeeded`);
        assert.match(result.stderr, /Read-only file system/, path);
        assert.equal(existsSync(path), false, `${path} appeared on the host`);
      }
    });

    it('root inside a sandbox cannot remount the system dirs writable', async () => {
      // A sandbox process that can remount /usr read-write can change the host's /usr. Put back at once if it worked.
      const result = await sandbox.exec(
        'for dir in /usr /etc; do if mount -o remount,bind,rw "$dir" 2>/dev/null; then echo "remounted $dir rw"; mount -o remount,bind,ro "$dir"; fi; done; true',
        { session },
      );
      assert.equal(result.stdout, '', 'the sandbox made host system dirs writable');
    });

    it('a sandbox cannot make the relay write a host file through its control directory', async () => {
      // The relay's per-session control directories are visible in the sandbox. A link planted there (here by a
      // sibling session, so no cleanup at the end of the victim's own exec removes it) must not lead the relay's
      // own writes (an exec's stdin file) to a host path: the directory is read-only inside, so planting fails.
      const hostDir = mkdtempSync(join(tmpdir(), 'isolation-target-'));
      try {
        const target = join(hostDir, 'written-by-relay');
        const victim = await sandbox.createSession();
        const controlDir = `/run/sandbox-terminal/${victim}`;
        assert.equal(await run(sandbox, `test -d ${controlDir} && echo present`, session), 'present\n', 'the control dir is where this test expects it');
        const planted = await sandbox.exec(`ln -sfn '${target}' ${controlDir}/stdin && test -L ${controlDir}/stdin`, { session });
        assert.notEqual(planted.exitCode, 0, 'a link could be planted in the control directory');
        assert.match(planted.stderr, /Read-only file system/);
        await sandbox.exec('cat >/dev/null', { session: victim, stdin: 'planted through a symlink\n', timeout: 5000 });
        assert.equal(existsSync(target), false, `the relay wrote ${target} on the host`);
      } finally {
        rmSync(hostDir, { recursive: true, force: true });
      }
    });

    it('/workspace is writable and keeps its files when the sandbox sleeps and starts again', async () => {
      await run(sandbox, 'mkdir -p /workspace/keep && echo persisted > /workspace/keep/file && cd /workspace/keep', session);
      await env.relay.sleepSandbox(sandbox.id);
      const runtime = env.relay.pool.runtimes().find((candidate) => candidate.id === sandbox.id);
      assert.equal(runtime?.running, false, 'the sandbox stopped');
      const result = await sandbox.exec('cat /workspace/keep/file; pwd', { session });
      assert.equal(result.sessionRecreated, true);
      assert.equal(result.stdout, 'persisted\n/workspace/keep\n');
    });

    it('the sessions of one sandbox share a pid namespace: a process started in one is seen and killed from another', async () => {
      const first = await sandbox.createSession();
      const second = await sandbox.createSession();
      const pid = (await run(sandbox, 'sleep 287.5 >/dev/null 2>&1 & echo $!', first)).trim();
      assert.match(pid, /^\d+$/);
      await waitFor(async () => (await sandbox.exec(`ps -o args= -p ${pid}`, { session: second })).stdout === 'sleep 287.5\n', `pid ${pid} running sleep, seen from the second session`);
      await run(sandbox, `kill ${pid}`, second);
      await waitFor(async () => {
        const state = await sandbox.exec(`ps -o stat= -p ${pid}`, { session: first });
        return state.exitCode !== 0 || state.stdout.trim().startsWith('Z');
      }, `pid ${pid} to end`);
    });
  });

  it('no process in a sandbox holds a descriptor of another terminal (node-pty leaves its PTY masters inheritable)', async () => {
    // Terminals of another sandbox and of this one exist before this sandbox's processes start.
    const other = env.sandbox();
    await other.createSession();
    await other.createSession();
    const sandbox = env.sandbox();
    await sandbox.createSession();
    const session = await sandbox.createSession();
    // Every descriptor of every process in the sandbox: its own terminal (a pts) is fine, a PTY master is not.
    const listing = 'for p in /proc/[0-9]*; do for f in $p/fd/*; do echo "${p#/proc/} ${f##*/} $(readlink $f)"; done; done 2>/dev/null';
    for (const result of [await sandbox.exec(listing, { session }), await sandbox.exec(listing)]) {
      const masters = result.stdout.split('\n').filter((line) => line.endsWith('/dev/ptmx'));
      assert.deepEqual(masters, [], `PTY masters held inside the sandbox:\n${masters.join('\n')}`);
      assert.match(result.stdout, /\/dev\/pts\/\d+|pipe:/, 'the listing saw no descriptor at all');
    }
  });

  it('with network off, a sandbox has only the loopback interface', async () => {
    const offline = await startRelay({ network: false });
    try {
      const sandbox = offline.sandbox();
      const devices = await run(sandbox, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      assert.deepEqual(devices.trim().split('\n'), ['lo']);
    } finally {
      await offline.close();
    }
    // With the network on (the default), the sandbox has an interface of its own too: pasta's, in its own namespace.
    const online = await run(env.sandbox(), "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    assert.ok(online.trim().split('\n').some((name) => name !== 'lo'), `interfaces with network on: ${online}`);
  });

  describe('the bubblewrap backend on its own', () => {
    const backend = new BubblewrapBackend({ ids: DEFAULT_SANDBOX_IDS, network: { allow: [] } });
    let root: string;
    let started = 0;
    before(() => {
      root = mkdtempSync(join(tmpdir(), 'isolation-start-'));
      makePrivateDirectory(root);
    });
    after(() => {
      // Whatever a failed stop() left running is ended here, so this file can exit.
      for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)) if (/^sleep 300\d\./.test(commandLine(pid))) signalIfAlive(pid);
      rmSync(root, { recursive: true, force: true });
    });

    async function startOne(): Promise<{ instance: SandboxInstance; workspaceDir: string }> {
      const index = started++;
      const dirs = { workspaceDir: join(root, `${index}/workspace`), controlDir: join(root, `${index}/control`) };
      // As the relay makes them: the workspace the sandbox root's, the control dir passable inside, both below root-only dirs.
      await prepareWorkspace(dirs.workspaceDir, DEFAULT_SANDBOX_IDS);
      makePrivateDirectory(join(root, String(index)));
      mkdirSync(dirs.controlDir, { mode: 0o755 });
      return { instance: await backend.start({ id: `start-${index}`, ...dirs, network: false }), workspaceDir: dirs.workspaceDir };
    }

    it('a sandbox is ready when start() resolves: a command run at once runs inside it', async () => {
      // The relay runs a new sandbox's first shell right after start(); a shell that enters the namespaces before
      // bwrap has set up its root fails (exit 127, "failed to execute /bin/bash") or starts outside its cwd.
      const outcomes: string[] = [];
      for (let round = 0; round < 25; round++) {
        const { instance } = await startOne();
        try {
          const child = instance.spawnCommand({ command: 'hostname; pwd', cwd: '/workspace', env: { PATH: '/usr/bin:/bin' } });
          let output = '';
          child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
          const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
          outcomes.push(`${code}: ${output.trim().replace(/\n/g, ' | ')}`);
        } finally {
          await instance.stop();
        }
      }
      const failures = outcomes.filter((outcome) => outcome !== '0: sandbox | /workspace');
      assert.deepEqual(failures, [], `${failures.length} of ${outcomes.length} commands started right after start() did not run in the sandbox`);
    });

    it('stop() right after start() ends every process of the sandbox', async () => {
      const leaked: string[] = [];
      for (let round = 0; round < 5; round++) {
        const { instance } = await startOne();
        const marker = `sleep ${3000 + round}.${process.pid % 1000}`;
        instance.spawnCommand({ command: `exec ${marker}`, cwd: '/workspace', env: { PATH: '/usr/bin:/bin' } });
        await waitFor(() => hostPidsRunning(marker).length > 0, `${marker} to start`);
        const bwrap = instance.hostPid;
        await instance.stop();
        try {
          await waitFor(() => hostPidsRunning(marker).length === 0 && (bwrap === undefined || !existsSync(`/proc/${bwrap}/stat`) || commandLine(bwrap) === ''), `the processes of round ${round} to end`, 1000);
        } catch {
          leaked.push(...hostPidsRunning(marker).map((pid) => `${pid} ${commandLine(pid).slice(0, 60)}…`));
        }
      }
      assert.deepEqual(leaked, [], 'processes of stopped sandboxes still running');
    });
  });
});
