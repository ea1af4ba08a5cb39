// Files and disk (issue 16, items 6, 7 and 10): uploads stream to disk within named budgets, a write is all or
// nothing even when the relay is killed in the middle, and a full disk or a full /tmp is a typed error that stays in
// its own sandbox.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SandboxError, getSandbox } from '@sandbox-terminal/client';
import { spawnRelayProcess, startRelay, waitFor } from './helpers.ts';

const MIB = 1024 * 1024;
const TEST_TIMEOUT_MS = 180_000;

/** Sends `bytes` of body (1 MiB chunks of one reused buffer) as a PUT to the files API; resolves with the status. */
function upload(url: string, path: string, bytes: number, options: { declareLength?: boolean; onStarted?: (send: () => void) => void } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(MIB, 'u');
    const target = new URL(`${url}/files?path=${encodeURIComponent(path)}`);
    const call = request(target, { method: 'PUT', headers: options.declareLength === false ? { 'transfer-encoding': 'chunked' } : { 'content-length': bytes } }, (response) => {
      let body = '';
      response.on('data', (data: Buffer) => (body += data.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    call.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const piece = Math.min(MIB, bytes - sent);
        sent += piece;
        if (!call.write(piece === MIB ? chunk : chunk.subarray(0, piece))) {
          call.once('drain', pump);
          return;
        }
      }
      call.end();
    };
    if (options.onStarted) {
      call.flushHeaders();
      options.onStarted(pump);
    } else pump();
  });
}

describe('uploads', () => {
  it('eight concurrent 99 MiB uploads stream to disk: the relay holds a few MiB of them, not all of them', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await startRelay({ limits: { uploadBytesInFlightPerClient: 1024 * MIB } });
    try {
      const sandbox = env.sandbox();
      await sandbox.writeFile('/workspace/warm', 'x');
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const base = `${env.relay.url}/v1/sandboxes/${sandbox.id}`;
      const results = await Promise.all(Array.from({ length: 8 }, (_, index) => upload(base, `/workspace/big-${index}`, 99 * MIB, { declareLength: index % 2 === 0 })));
      clearInterval(sampler);
      assert.deepEqual(results.map((result) => result.status), Array(8).fill(204), JSON.stringify(results.filter((result) => result.status !== 204)));
      const sizes = (await sandbox.listFiles('/workspace')).filter((entry) => entry.name.startsWith('big-')).map((entry) => entry.size);
      assert.deepEqual(sizes, Array(8).fill(99 * MIB));
      // Buffered whole, the eight bodies alone would be 792 MiB (this process is the relay and the client).
      assert.ok(peak - before < 200 * MIB, `RSS grew by ${Math.round((peak - before) / MIB)} MiB during the uploads`);
    } finally {
      await env.close();
    }
  });

  it('one client may have uploadBytesInFlightPerClient bytes in flight; more is refused at once, naming the limit', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await startRelay({ limits: { uploadBytesInFlightPerClient: 128 * MIB } });
    try {
      const sandbox = env.sandbox();
      await sandbox.writeFile('/workspace/warm', 'x');
      const base = `${env.relay.url}/v1/sandboxes/${sandbox.id}`;
      const senders: Array<() => void> = [];
      const calls = [0, 1, 2].map((index) => upload(base, `/workspace/slot-${index}`, 60 * MIB, { onStarted: (send) => senders.push(send) }));
      // Two fit in 128 MiB; the third is answered before any body arrives.
      const refused = await Promise.race(calls.map((call, index) => call.then((result) => ({ ...result, index }))));
      assert.equal(refused.status, 413);
      assert.equal(JSON.parse(refused.body).details.limit, 'uploadBytesInFlightPerClient');
      await waitFor(() => senders.length === 3, 'all three uploads to have sent their headers');
      for (const [index, send] of senders.entries()) if (index !== refused.index) send();
      const outcomes = await Promise.all(calls);
      assert.deepEqual(outcomes.map((outcome) => outcome.status).sort(), [204, 204, 413]);
      // The budget comes back: a new upload is taken once the others are done.
      assert.equal((await upload(base, '/workspace/after', 60 * MIB)).status, 204);
    } finally {
      await env.close();
    }
  });

  it('an upload over fileBytes is refused, and the file it would have replaced is untouched', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await startRelay({ limits: { fileBytes: 4 * MIB } });
    try {
      const sandbox = env.sandbox();
      await sandbox.writeFile('/workspace/kept', 'the old content');
      const base = `${env.relay.url}/v1/sandboxes/${sandbox.id}`;
      const chunked = await upload(base, '/workspace/kept', 6 * MIB, { declareLength: false });
      assert.equal(chunked.status, 413);
      assert.equal(JSON.parse(chunked.body).details.limit, 'fileBytes');
      assert.equal(await sandbox.readFile('/workspace/kept'), 'the old content');
      const names = (await sandbox.listFiles('/workspace')).map((entry) => entry.name);
      assert.deepEqual(names.filter((name) => name.includes('sandbox-terminal-upload')), [], 'a temporary file was left behind');
    } finally {
      await env.close();
    }
  });
});

describe('a write is all or nothing', () => {
  it('kill -9 of the relay while it writes a 99 MiB upload leaves the old file, or the new one, whole', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storage-atomic-'));
    const relay = await spawnRelayProcess(['--data-dir', dataDir]);
    try {
      const sandbox = getSandbox(relay.url, 'atomic');
      const old = 'version one\n';
      await sandbox.writeFile('/workspace/doc', old);
      const workspace = join(dataDir, 'sandboxes', 'atomic', 'workspace');
      // The relay dies once it is half-way through putting the new bytes on disk, wherever it puts them.
      const watcher = setInterval(() => {
        const sizes = readdirSync(workspace).map((name) => ({ name, size: statSync(join(workspace, name)).size }));
        const doc = sizes.find((entry) => entry.name === 'doc')?.size;
        const elsewhere = sizes.filter((entry) => entry.name !== 'doc').reduce((sum, entry) => sum + entry.size, 0);
        if (doc !== old.length || elsewhere > 50 * MIB) relay.kill();
      }, 1);
      await new Promise<void>((resolve) => {
        const call = request(new URL(`${relay.url}/v1/sandboxes/atomic/files?path=/workspace/doc`), { method: 'PUT', headers: { 'content-length': 99 * MIB } });
        call.on('error', () => resolve());
        call.on('response', () => resolve());
        const chunk = Buffer.alloc(MIB, 'n');
        let sent = 0;
        const pump = () => {
          while (sent < 99 * MIB) {
            sent += MIB;
            if (!call.write(chunk)) return void call.once('drain', pump);
          }
          call.end();
        };
        pump();
      });
      await relay.exited;
      clearInterval(watcher);
      const content = readFileSync(join(workspace, 'doc'));
      const whole = content.equals(Buffer.from(old)) || (content.length === 99 * MIB && content.every((byte) => byte === 0x6e));
      assert.ok(whole, `the file is ${content.length} bytes, neither the old one nor all of the new one`);
      const restarted = await spawnRelayProcess(['--data-dir', dataDir]);
      try {
        const again = getSandbox(restarted.url, 'atomic');
        await again.writeFile('/workspace/doc', 'version two\n');
        assert.equal(await again.readFile('/workspace/doc'), 'version two\n');
      } finally {
        await restarted.stop();
      }
    } finally {
      relay.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('disk space', () => {
  it('a sandbox filling its /tmp gets ENOSPC at sandboxTmpBytes; other sandboxes and the relay go on', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await startRelay({ limits: { sandboxTmpBytes: 8 * MIB } });
    try {
      const full = env.sandbox();
      const filled = await full.exec('dd if=/dev/zero of=/tmp/fill bs=1M count=20 2>&1; df -k /tmp | tail -1', { timeout: 60_000 });
      assert.match(filled.stdout, /No space left on device/);
      assert.match(filled.stdout, /\s8192\s/, `/tmp is 8 MiB: ${filled.stdout}`);
      const other = env.sandbox();
      const fine = await other.exec('dd if=/dev/zero of=/tmp/some bs=1M count=4 status=none && echo wrote', { timeout: 60_000 });
      assert.equal(fine.stdout, 'wrote\n');
      assert.equal((await full.exec('rm /tmp/fill && echo freed')).stdout, 'freed\n');
    } finally {
      await env.close();
    }
  });

  it('with sandboxWorkspaceBytes a workspace is a volume of that size: full inside and NO_SPACE outside, kept across restarts, gone with its sandbox', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storage-volume-'));
    const workspace = join(dataDir, 'sandboxes', 'bounded', 'workspace');
    let env = await startRelay({ dataDir, limits: { sandboxWorkspaceBytes: 16 * MIB } });
    try {
      const sandbox = getSandbox(env.relay.url, 'bounded');
      const filled = await sandbox.exec('dd if=/dev/zero of=/workspace/fill bs=1M count=40 2>&1; df -k /workspace | tail -1; ls -A /workspace', { timeout: 60_000 });
      assert.match(filled.stdout, /No space left on device/);
      const size = Number(/\s(\d+)\s+\d+\s+\d+\s+\d+%/.exec(filled.stdout)?.[1]);
      assert.ok(size > 8 * 1024 && size <= 16 * 1024, `/workspace is ${size} KiB`);
      assert.doesNotMatch(filled.stdout, /lost\+found/);
      await assert.rejects(sandbox.writeFile('/workspace/more', new Uint8Array(4 * MIB)), (error: unknown) => error instanceof SandboxError && error.code === 'NO_SPACE');
      const other = env.sandbox();
      assert.equal((await other.exec('dd if=/dev/zero of=/workspace/some bs=1M count=8 status=none && echo room-of-its-own', { timeout: 60_000 })).stdout, 'room-of-its-own\n', 'another sandbox has its own volume');
      await sandbox.exec('rm /workspace/fill && echo kept > /workspace/note');
      await env.close();
      assert.equal(isMounted(workspace), false, 'the volume stays mounted after the relay closed');
      env = await startRelay({ dataDir, limits: { sandboxWorkspaceBytes: 16 * MIB } });
      assert.equal(await getSandbox(env.relay.url, 'bounded').readFile('/workspace/note'), 'kept\n', 'the volume came back with its files');
      await env.relay.pool.deleteSandbox('bounded');
      assert.equal(isMounted(workspace), false);
      assert.equal(existsSync(join(dataDir, 'sandboxes', 'bounded', 'workspace.img')), false, 'the image outlived its sandbox');
    } finally {
      await env.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a full data disk answers NO_SPACE, leaves no partial file, and sessions still start', { timeout: TEST_TIMEOUT_MS }, async () => {
    const mount = mkdtempSync(join(tmpdir(), 'storage-full-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mount]);
    assert.equal(mounted.status, 0, `mount a small tmpfs: ${mounted.stderr}`);
    const env = await startRelay({ dataDir: join(mount, 'data') });
    try {
      const sandbox = env.sandbox();
      await sandbox.writeFile('/workspace/small', 'fits');
      await assert.rejects(sandbox.writeFile('/workspace/big', new Uint8Array(8 * MIB)), (error: unknown) => error instanceof SandboxError && error.code === 'NO_SPACE' && error.status === 507);
      const names = (await sandbox.listFiles('/workspace')).map((entry) => entry.name);
      assert.deepEqual(names, ['small'], 'the failed write left something behind');
      const session = await sandbox.createSession();
      assert.equal((await sandbox.exec('cat /workspace/small', { session })).stdout, 'fits');
    } finally {
      await env.close();
      spawnSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('a full disk under the control directories makes a sandbox start answer NO_SPACE, not INTERNAL', { timeout: TEST_TIMEOUT_MS }, async () => {
    const mount = mkdtempSync(join(tmpdir(), 'storage-runtime-'));
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]).status, 0);
    const dataDir = mkdtempSync(join(tmpdir(), 'storage-runtime-data-'));
    const relay = await spawnRelayProcess(['--data-dir', dataDir], { TMPDIR: mount });
    try {
      mkdirSync(join(mount, 'filler'));
      spawnSync('dd', ['if=/dev/zero', `of=${join(mount, 'filler', 'all')}`, 'bs=64k', 'count=64'], { stdio: 'ignore' });
      const failure = await getSandbox(relay.url, 'no-room').createSession().catch((error: unknown) => error as SandboxError);
      assert.ok(failure instanceof SandboxError, String(failure));
      assert.equal(failure.code, 'NO_SPACE', failure.message);
      rmSync(join(mount, 'filler'), { recursive: true, force: true });
      const session = await getSandbox(relay.url, 'no-room').createSession();
      assert.match(session, /^[0-9a-f-]{36}$/, 'once there is room again the sandbox starts');
    } finally {
      relay.kill('SIGTERM');
      await relay.exited;
      spawnSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === dir);
}

after(() => {
  for (const entry of readdirSync(tmpdir())) if (/^storage-(full|runtime)-/.test(entry)) spawnSync('umount', [join(tmpdir(), entry)]);
});
