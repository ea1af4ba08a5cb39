import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@keyv/redis';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { TERMINAL_CLOSE_CODES, type ExecStreamEvent } from '@sandbox-terminal/protocol';
import { RelayProcess, startRedis, startRelayGroup, stopRelayGroup, type RedisServer } from './cluster-helpers.ts';
import { TerminalClient, waitFor } from './helpers.ts';

// Issue 20's "done means": three real relay processes, one real redis-server, one data dir shared by all of them (as
// a network volume would be), all on loopback. The tests that kill or restart relays come last and leave the group
// whole again.

let redis: RedisServer;
let relays: RelayProcess[];
const dataDir = mkdtempSync(join(tmpdir(), 'cluster-test-'));
let redisClient: ReturnType<typeof createClient>;

before(async () => {
  redis = await startRedis();
  relays = await startRelayGroup(3, redis.url, dataDir);
  redisClient = createClient({ url: redis.url });
  await redisClient.connect();
});

after(async () => {
  if (redisClient?.isOpen) redisClient.destroy();
  if (relays) await stopRelayGroup(relays);
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The same sandbox as seen through each relay. */
function through(sandboxId: string): Sandbox[] {
  return relays.map((relay) => getSandbox(relay.url, sandboxId));
}

/** The relay whose lease the sandbox has in Redis (its advertised URL), or undefined. */
async function leaseHolder(sandboxId: string): Promise<string | undefined> {
  const value = await redisClient.get(`sandbox-terminal:lease:${sandboxId}`);
  return value ? (JSON.parse(value) as { url: string }).url : undefined;
}

async function totalRecreations(): Promise<number> {
  const counts = await Promise.all(relays.map((relay) => relay.metric('sandbox_relay_session_recreations_total')));
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Puts a sandbox to sleep through the development endpoint (sandbox-scoped: any relay passes it to the owner). */
async function sleepSandbox(relayUrl: string, sandboxId: string): Promise<void> {
  const response = await fetch(`${relayUrl}/v1/admin/sandboxes/${sandboxId}/sleep`, { method: 'POST' });
  assert.equal(response.status, 204, await response.text());
}

function withCursor(terminalUrl: string, cursor: number): string {
  const url = new URL(terminalUrl);
  url.searchParams.set('cursor', String(cursor));
  return url.toString();
}

describe('three relays sharing Redis and a data dir', () => {
  it('a session created through relay A is used through B and C: exec, files, a streaming exec and a terminal typed into', async () => {
    const [viaA, viaB, viaC] = through('cluster-shared-box') as [Sandbox, Sandbox, Sandbox];
    const session = await viaA.createSession();
    assert.equal(await leaseHolder('cluster-shared-box'), relays[0]!.url, 'the relay that started the sandbox holds its lease');

    // One shell, whichever relay the call reaches.
    await viaB.exec('mkdir -p /workspace/app && cd /workspace/app && export VIA=B', { session });
    const seen = await viaC.exec('pwd; echo "$VIA"', { session });
    assert.equal(seen.stdout, '/workspace/app\nB\n');
    assert.equal(seen.sessionRecreated, false, 'the shell that B used is the one C reached: nothing was recreated');

    // Uploads and downloads pass byte for byte; statuses and error codes pass unchanged.
    const payload = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) % 251;
    await viaB.writeFile('/workspace/app/blob.bin', payload);
    const back = Buffer.from(await viaC.readFile('/workspace/app/blob.bin', { encoding: 'binary' }));
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'));
    assert.deepEqual((await viaA.listFiles('/workspace/app')).map((entry) => entry.name).sort(), ['blob.bin']);
    await assert.rejects(viaB.readFile('/workspace/app/missing'), (error: SandboxError) => error.code === 'FILE_NOT_FOUND' && error.status === 404);
    await assert.rejects(viaC.createSession({ id: session }), (error: SandboxError) => error.code === 'SESSION_EXISTS' && error.status === 409);

    // A streaming exec through C: its first line arrives while the command still waits for a file only B can create.
    const seenTypes: string[] = [];
    for await (const event of viaC.execStream('echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second', { session }) as AsyncGenerator<ExecStreamEvent>) {
      seenTypes.push(event.type);
      if (event.type === 'stdout' && event.data.includes('first')) await viaB.exec('touch /tmp/go');
      if (event.type === 'exit') assert.equal(event.exitCode, 0);
    }
    assert.deepEqual(seenTypes.filter((type) => type !== 'stdout'), ['start', 'exit']);

    // A terminal through C, typed into; a second viewer through B sees the same output.
    const typing = await TerminalClient.open(viaC, session);
    const watching = await TerminalClient.open(viaB, session);
    try {
      typing.type('echo typed-$((6*7))\r');
      await typing.waitForOutput('typed-42');
      await watching.waitForOutput('typed-42');
    } finally {
      typing.close();
      watching.close();
    }

    assert.equal(await relays[0]!.metric('sandbox_relay_sandboxes_owned'), 1, 'A owns the sandbox');
    for (const relay of relays.slice(1)) {
      assert.equal(await relay.metric('sandbox_relay_sandboxes_running'), 0, 'only A runs it');
      assert.ok((await relay.metric('sandbox_relay_forwarded_requests_total', { kind: 'http', outcome: 'ok' })) > 0, `${relay.url} forwarded HTTP calls`);
      assert.ok((await relay.metric('sandbox_relay_forwarded_requests_total', { kind: 'websocket', outcome: 'ok' })) > 0, `${relay.url} forwarded a terminal`);
      assert.ok((await relay.metric('sandbox_relay_forwarded_bytes_total', { kind: 'http', direction: 'to_owner' })) > 0);
    }
    assert.ok((await relays[1]!.metric('sandbox_relay_forwarded_bytes_total', { kind: 'http', direction: 'to_owner' })) > payload.length, 'the upload went through B');
    assert.ok((await relays[2]!.metric('sandbox_relay_forwarded_bytes_total', { kind: 'http', direction: 'from_owner' })) > payload.length, 'the download came through C');
  });

  it("close codes of the owner's terminal reach a viewer attached through another relay unchanged", async () => {
    const [viaA, viaB] = through('cluster-close-box') as [Sandbox, Sandbox];
    const session = await viaA.createSession();
    const viewer = await TerminalClient.open(viaB, session);
    await viaA.deleteSession(session);
    assert.equal(await viewer.waitForClose(), TERMINAL_CLOSE_CODES.SESSION_DELETED);
    const unknown = new TerminalClient(viaB.terminalUrl('no-such-session'));
    assert.equal(await unknown.waitForClose(), TERMINAL_CLOSE_CODES.SESSION_NOT_FOUND);
    assert.equal(unknown.controls.find((message) => message.type === 'error')?.type, 'error');
  });

  it('two relays racing to wake the same sleeping sandbox end with one owner, and one shell per session', async () => {
    for (let round = 0; round < 4; round++) {
      const sandboxId = `cluster-race-${round}`;
      const [viaA, viaB, viaC] = through(sandboxId) as [Sandbox, Sandbox, Sandbox];
      const session = await viaA.createSession();
      await viaA.exec('export ROUND=start', { session });
      await sleepSandbox(relays[0]!.url, sandboxId);
      await waitFor(async () => (await leaseHolder(sandboxId)) === undefined, 'the sleeping sandbox to have no owner');

      // B and C wake it at the same moment, several calls each; each call sets a variable of its own.
      const recreationsBefore = await totalRecreations();
      const runningBefore = await Promise.all(relays.map((relay) => relay.metric('sandbox_relay_sandboxes_running')));
      const calls = [...Array(6).keys()].map((i) => (i % 2 ? viaB : viaC).exec(`export W${i}=${i}; echo woke`, { session }));
      const results = await Promise.all(calls);
      assert.ok(results.every((result) => result.stdout === 'woke\n' && result.exitCode === 0), JSON.stringify(results.map((result) => result.stdout)));
      assert.ok(results.every((result) => result.recreationReason === undefined || result.recreationReason === 'slept'));
      assert.equal((await totalRecreations()) - recreationsBefore, 1, 'the session was recreated once, by the relay that won');

      const holder = await leaseHolder(sandboxId);
      assert.ok(holder === relays[1]!.url || holder === relays[2]!.url, `a waking relay holds the lease, not ${holder}`);
      const running = await Promise.all(relays.map((relay, index) => relay.metric('sandbox_relay_sandboxes_running').then((count) => count - runningBefore[index]!)));
      assert.deepEqual(running.map((count) => (count ? relays[running.indexOf(count)]!.url : '')).filter(Boolean), [holder], `only the lease holder started a sandbox (per relay: ${running})`);
      // Every call ran in the one shell: it holds all six variables.
      const env = await viaA.exec('echo $W0$W1$W2$W3$W4$W5', { session });
      assert.equal(env.stdout, '012345\n');
      await sleepSandbox(relays[0]!.url, sandboxId);
    }
  });

  it('kill -9 of the owner during a streaming terminal: the terminal reconnects through another relay and the session comes back with its cwd, env and screen', async () => {
    const [viaA, viaB, viaC] = through('cluster-failover-box') as [Sandbox, Sandbox, Sandbox];
    const session = await viaA.createSession();
    await viaA.exec('mkdir -p /workspace/failover && cd /workspace/failover && export FAILOVER=kept', { session });
    assert.equal(await leaseHolder('cluster-failover-box'), relays[0]!.url);

    const viewer = await TerminalClient.open(viaB, session);
    viewer.type('for i in $(seq 1 1000000); do echo "streamed-$i"; sleep 0.02; done\r');
    await viewer.waitForOutput(/streamed-20\b/);
    // The relay checkpoints the screen of a session whose output moved (screenCheckpointMs): wait for one to land.
    await waitFor(async () => {
      const keys = await redisClient.keys(`sandbox-terminal*session:cluster-failover-box:${session}`);
      const record = keys[0] ? (JSON.parse(String(await redisClient.get(keys[0]))) as { value: { screen?: { data: string } } }) : undefined;
      // A streamed line, not the command line (which says `streamed-$i` too: a checkpoint taken right after Enter
      // matched that, and the failover then rightly restored a screen without any streamed line).
      return record?.value.screen && /streamed-\d+/.test(record.value.screen.data);
    }, 'a screen checkpoint with streamed lines in the registry', 20_000);

    assert.equal(await relays[0]!.stop('SIGKILL'), 'SIGKILL');
    assert.equal(await viewer.waitForClose(), 1006, 'the viewer sees its connection drop (no close frame came from a killed owner)');

    // The element would reconnect by itself; here, the same reconnect by hand, with its cursor, through B.
    const cursor = viewer.controls.filter((message) => message.type === 'ready').at(-1)!.position;
    const back = new TerminalClient(withCursor(viaB.terminalUrl(session), cursor));
    const recreated = await back.waitForControl('session-recreated', 30_000);
    assert.equal(recreated.reason, 'relay-failed-over');
    assert.equal(recreated.cwd, '/workspace/failover');
    assert.ok(recreated.restoredEnv.includes('FAILOVER'));
    await back.waitForControl('screen');
    assert.match(back.output, /streamed-\d+/, 'the saved screen came back');

    const state = await viaC.exec('pwd; echo "$FAILOVER"', { session });
    assert.equal(state.stdout, '/workspace/failover\nkept\n');
    const holder = await leaseHolder('cluster-failover-box');
    assert.equal(holder, relays[1]!.url, 'the relay the terminal came back through took the sandbox over');
    assert.equal(await relays[1]!.metric('sandbox_relay_lease_takeovers_total'), 1);
    back.close();

    await relays[0]!.start();
  });

  it('a rolling restart of all three relays (SIGTERM one at a time) loses no session, while calls go on through the others', { timeout: 240_000 }, async () => {
    // A session on a sandbox owned by each relay, with a cwd and an exported variable of its own.
    const sessions: Array<{ sandboxId: string; session: string; cwd: string }> = [];
    for (const [index, relay] of relays.entries()) {
      const sandboxId = `cluster-rolling-${index}`;
      const sandbox = getSandbox(relay.url, sandboxId);
      const session = await sandbox.createSession();
      const cwd = `/workspace/rolling-${index}`;
      await sandbox.exec(`mkdir -p ${cwd} && cd ${cwd} && export ROLLING=${index}`, { session });
      sessions.push({ sandboxId, session, cwd });
    }
    const failures: string[] = [];
    let calls = 0;
    for (const [index, relay] of relays.entries()) {
      // While this relay restarts, the next one takes every call.
      const other = relays[(index + 1) % relays.length]!;
      let stop = false;
      const loop = (async () => {
        while (!stop) {
          for (const { sandboxId, session, cwd } of sessions) {
            calls++;
            try {
              const result = await getSandbox(other.url, sandboxId).exec('pwd; echo "$ROLLING"', { session, timeout: 20_000 });
              const expected = `${cwd}\n${sandboxId.at(-1)}\n`;
              if (result.stdout !== expected) failures.push(`${sandboxId} through ${other.url}: ${JSON.stringify(result.stdout)}`);
            } catch (error) {
              failures.push(`${sandboxId} through ${other.url}: ${(error as Error).message}`);
            }
          }
        }
      })();
      assert.equal(await relay.stop('SIGTERM'), 0, 'the relay saved its sessions and exited cleanly');
      await relay.start();
      stop = true;
      await loop;
    }
    assert.deepEqual(failures, [], `${failures.length} of ${calls} calls failed`);
    for (const { sandboxId, session, cwd } of sessions) {
      const result = await getSandbox(relays[0]!.url, sandboxId).exec('pwd; echo "$ROLLING"', { session });
      assert.equal(result.stdout, `${cwd}\n${sandboxId.at(-1)}\n`);
      assert.deepEqual((await getSandbox(relays[1]!.url, sandboxId).listSessions()).map((info) => info.id), [session]);
    }
  });
});
