import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@keyv/redis';
import { getSandbox, SandboxError } from '@sandbox-terminal/client';
import { RELAY_HOP_HEADER, REQUEST_ID_HEADER, SESSION_RECREATED_HEADER, TERMINAL_CLOSE_CODES, TERMINAL_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@sandbox-terminal/protocol';
import { createRelay, issueToken, type Relay } from '@sandbox-terminal/server';
import { startRedis, type RedisServer } from './cluster-helpers.ts';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

// How a call reaches the owner through another relay, in one process: two relays (A owns, B forwards) sharing a real
// redis-server and a data dir. The three-process tests of issue 20 are in cluster.test.ts.

const SECRET = 'cluster-test-secret-that-is-long-enough-0123456789';
let redis: RedisServer;
let redisClient: ReturnType<typeof createClient>;
const dataDir = mkdtempSync(join(tmpdir(), 'cluster-forwarding-test-'));

before(async () => {
  redis = await startRedis();
  redisClient = createClient({ url: redis.url });
  await redisClient.connect();
});

after(async () => {
  if (redisClient?.isOpen) redisClient.destroy();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function pair(options: Parameters<typeof startRelay>[0] = {}) {
  const a = await startRelay({ redisUrl: redis.url, dataDir, ...options });
  const b = await startRelay({ redisUrl: redis.url, dataDir, ...options });
  return { a, b, close: async () => Promise.all([a.close(), b.close()]) };
}

async function metric(relay: Relay, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metrics = (await relay.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return metrics.filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted)).reduce((sum, value) => sum + value.value, 0);
}

describe('forwarding to the owner relay', () => {
  it('terminal output reaches a viewer through another relay byte for byte as it reaches one on the owner, and typed input arrives whole', async () => {
    const { a, b, close } = await pair();
    try {
      const onA = a.sandbox('fwd-bytes-box');
      const session = await onA.createSession();
      const direct = await TerminalClient.open(onA, session);
      const forwarded = await TerminalClient.open(getSandbox(b.relay.url, 'fwd-bytes-box'), session);
      const line = Array.from({ length: 3000 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz0123456789'[(i * 7) % 36]).join('');
      // Typed through B: the shell gets exactly those bytes, and both viewers see exactly the same output stream.
      forwarded.type(`stty -echo; printf '%s' '${line}' > /tmp/typed; head -c 200000 /dev/urandom | base64 -w 76; echo end-$((1+1))\r`);
      await direct.waitForOutput('end-2');
      await forwarded.waitForOutput('end-2');
      assert.equal(await onA.exec('cat /tmp/typed').then((result) => result.stdout), line);
      const tail = (text: string) => text.slice(text.indexOf('stty -echo'));
      assert.equal(tail(forwarded.output), tail(direct.output));
      assert.ok(tail(direct.output).length > 250_000);
      direct.close();
      forwarded.close();
    } finally {
      await close();
    }
  });

  it('statuses, error codes and headers pass through unchanged, and the request id is the same on both relays', async () => {
    const { a, b, close } = await pair();
    try {
      const session = await a.sandbox('fwd-status-box').createSession();
      const viaB = getSandbox(b.relay.url, 'fwd-status-box');
      const unknown = await fetch(`${b.relay.url}/v1/sandboxes/fwd-status-box/no-such-route`, { headers: { [REQUEST_ID_HEADER]: 'trace-me-42' } });
      assert.equal(unknown.status, 404);
      assert.equal((await unknown.json() as { code: string }).code, 'NOT_FOUND');
      assert.equal(unknown.headers.get(REQUEST_ID_HEADER), 'trace-me-42');
      const bad = await fetch(`${b.relay.url}/v1/sandboxes/fwd-status-box/exec`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"command": 42}' });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json() as { code: string }).code, 'BAD_REQUEST');
      await viaB.writeFile('/workspace/sized.txt', 'x'.repeat(12345));
      const download = await fetch(`${b.relay.url}/v1/sandboxes/fwd-status-box/files?path=/workspace/sized.txt`);
      assert.equal(download.headers.get('content-length'), '12345');
      assert.equal((await download.text()).length, 12345);
      assert.equal(await metric(b.relay, 'sandbox_relay_forwarded_requests_total', { kind: 'http', outcome: 'ok' }), 4);
      // Asleep, the sandbox has no owner: B wakes it and takes the lease, and the rest is served by B itself.
      await a.relay.sleepSandbox('fwd-status-box');
      const woken = await fetch(`${b.relay.url}/v1/sandboxes/fwd-status-box/exec`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command: 'true', session }) });
      assert.equal(woken.status, 200);
      assert.equal(woken.headers.get(SESSION_RECREATED_HEADER), 'true');
      assert.equal(await metric(b.relay, 'sandbox_relay_sandboxes_owned'), 1);
      const forwardedByA = await metric(a.relay, 'sandbox_relay_forwarded_requests_total', { kind: 'http', outcome: 'ok' });
      assert.equal((await a.sandbox('fwd-status-box').exec('echo via-a', { session })).stdout, 'via-a\n');
      assert.equal((await metric(a.relay, 'sandbox_relay_forwarded_requests_total', { kind: 'http', outcome: 'ok' })) - forwardedByA, 1, 'A now forwards to B');
    } finally {
      await close();
    }
  });

  it('a recreation the owner does reaches the caller through the forwarding relay: the header and the result say so', async () => {
    const { a, b, close } = await pair();
    try {
      const onA = a.sandbox('fwd-recreated-box');
      const session = await onA.createSession();
      await onA.exec('cd /tmp && export KEPT=yes', { session });
      await a.relay.sleepSandbox('fwd-recreated-box');
      // Another session starts the sandbox on A again (A holds it while it runs); the first one is still asleep.
      await onA.createSession();
      const forwardedBefore = await metric(b.relay, 'sandbox_relay_forwarded_requests_total', { kind: 'http', outcome: 'ok' });
      const response = await fetch(`${b.relay.url}/v1/sandboxes/fwd-recreated-box/exec`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ command: 'echo "$PWD $KEPT"', session }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get(SESSION_RECREATED_HEADER), 'true');
      const result = (await response.json()) as { sessionRecreated: boolean; recreationReason?: string; stdout: string };
      assert.deepEqual([result.sessionRecreated, result.recreationReason, result.stdout], [true, 'slept', '/tmp yes\n']);
      assert.equal((await metric(b.relay, 'sandbox_relay_forwarded_requests_total', { kind: 'http', outcome: 'ok' })) - forwardedBefore, 1, 'A ran it, B forwarded it');
      const again = await getSandbox(b.relay.url, 'fwd-recreated-box').exec('true', { session });
      assert.equal(again.sessionRecreated, false, 'said once, through the hop too');
    } finally {
      await close();
    }
  });

  it('tokens are checked once, by the relay that runs the sandbox: the forwarding relay passes every token on and every refusal back', async () => {
    const { a, b, close } = await pair({ secret: SECRET });
    try {
      const admin = await issueToken({ secret: SECRET, sandbox: 'fwd-auth-box', scope: 'admin', expiresIn: 600 });
      const session = await getSandbox(a.relay.url, 'fwd-auth-box', { token: admin }).createSession();
      const forwardedBefore = await metric(b.relay, 'sandbox_relay_forwarded_requests_total');
      const none = await fetch(`${b.relay.url}/v1/sandboxes/fwd-auth-box/sessions`);
      assert.equal(none.status, 401);
      const other = await issueToken({ secret: SECRET, sandbox: 'another-box', scope: 'admin', expiresIn: 600 });
      await assert.rejects(getSandbox(b.relay.url, 'fwd-auth-box', { token: other }).exec('true', { session }), (error: SandboxError) => error.code === 'FORBIDDEN' && error.status === 403);
      assert.equal((await metric(b.relay, 'sandbox_relay_forwarded_requests_total')) - forwardedBefore, 2, 'B did not judge the tokens: it forwarded both calls');

      const read = await issueToken({ secret: SECRET, sandbox: 'fwd-auth-box', scope: 'read', expiresIn: 600 });
      const terminalUrl = getSandbox(b.relay.url, 'fwd-auth-box').terminalUrl(session);
      const reader = new TerminalClient(terminalUrl, [TERMINAL_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + read]);
      await reader.waitForControl('ready');
      reader.type('echo should-not-run\r');
      const refusal = await waitFor(() => reader.controls.find((message) => message.type === 'error'), 'the refusal to type');
      assert.equal(refusal.type === 'error' && refusal.code, 'FORBIDDEN');
      reader.close();
      const stranger = new TerminalClient(terminalUrl, [TERMINAL_SUBPROTOCOL]);
      assert.equal(await stranger.waitForClose(), TERMINAL_CLOSE_CODES.UNAUTHORIZED);
    } finally {
      await close();
    }
  });

  it('a hop header a client forges buys nothing: the call is rate-limited as its own and served or forwarded as a direct one', async () => {
    const { a, b, close } = await pair({ limits: { httpRequestsPerSecond: 3 } });
    try {
      await a.sandbox('fwd-forged-box').createSession();
      const forged = { [RELAY_HOP_HEADER]: `v1.${Buffer.from('203.0.113.9').toString('base64url')}.${Date.now()}.AAAA` };
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await fetch(`${b.relay.url}/v1/sandboxes/fwd-forged-box/sessions`, { headers: forged })).status);
      assert.ok(statuses.includes(429), `the forged header did not lift the rate limit: ${statuses}`);
      // Taken for a forwarded call, it would have been refused as misdirected (421): B does not own the sandbox.
      assert.ok(statuses.includes(200) && !statuses.includes(421), `B forwarded the call as a direct one: ${statuses}`);
      assert.ok((await metric(b.relay, 'sandbox_relay_forwarded_requests_total', { outcome: 'ok' })) > 0);
    } finally {
      await close();
    }
  });

  it('a path that leaves the sandbox is normalized first: a forwarded call never reaches a relay-wide endpoint', async () => {
    const { a, b, close } = await pair({ secret: SECRET });
    try {
      const admin = await issueToken({ secret: SECRET, sandbox: 'fwd-path-box', scope: 'admin', expiresIn: 600 });
      await getSandbox(a.relay.url, 'fwd-path-box', { token: admin }).createSession();
      const before = await metric(b.relay, 'sandbox_relay_forwarded_requests_total');
      for (const path of ['/v1/sandboxes/fwd-path-box/../../admin/idle-timeout', '/v1/sandboxes/fwd-path-box/%2e%2e/%2e%2e/admin/idle-timeout']) {
        const response = await fetch(`${b.relay.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{"ms":5000}' });
        assert.equal(response.status, 403, path);
        assert.equal((await response.json() as { code: string }).code, 'FORBIDDEN');
      }
      assert.equal(await metric(b.relay, 'sandbox_relay_forwarded_requests_total'), before, 'nothing was forwarded');
      assert.equal(a.relay.pool.idleTimeoutMs, 600_000);
    } finally {
      await close();
    }
  });

  it("a lease naming this relay's own address under another relay id (a killed predecessor) is waited out, never called", async () => {
    const { a, b, close } = await pair({ limits: { sandboxLeaseMs: 1_500 } });
    try {
      const startedAt = performance.now();
      await redisClient.set('sandbox-terminal:lease:fwd-ghost-box', JSON.stringify({ relay: 'a-relay-that-died', url: b.relay.url }), { PX: 1_500 });
      const session = await getSandbox(b.relay.url, 'fwd-ghost-box').createSession();
      assert.ok(performance.now() - startedAt >= 1_450, 'B waited for the stale lease to expire');
      assert.equal(JSON.parse(String(await redisClient.get('sandbox-terminal:lease:fwd-ghost-box'))).url, b.relay.url);
      assert.equal(await metric(b.relay, 'sandbox_relay_forwarded_requests_total'), 0);
      assert.equal((await getSandbox(a.relay.url, 'fwd-ghost-box').exec('echo ok', { session })).stdout, 'ok\n');
    } finally {
      await close();
    }
  });

  it('a relay whose lease another relay took stops the sandbox at once, writes nothing more, and sends its viewers away to reconnect', async () => {
    const { a, close } = await pair({ limits: { sandboxLeaseMs: 1_500 } });
    try {
      const onA = a.sandbox('fwd-fenced-box');
      const session = await onA.createSession();
      await onA.exec('cd /tmp', { session });
      const viewer = await TerminalClient.open(onA, session);
      await redisClient.set('sandbox-terminal:lease:fwd-fenced-box', JSON.stringify({ relay: 'the-new-owner', url: 'http://127.0.0.1:9' }), { PX: 60_000 });
      assert.equal(await viewer.waitForClose(), TERMINAL_CLOSE_CODES.SHUTTING_DOWN);
      await waitFor(async () => (await metric(a.relay, 'sandbox_relay_leases_lost_total', { why: 'taken' })) === 1, 'A to notice');
      assert.equal(a.relay.pool.runtimes().some((runtime) => runtime.id === 'fwd-fenced-box' && runtime.running), false, 'the sandbox was stopped on A');
      const key = (await redisClient.keys(`sandbox-terminal*session:fwd-fenced-box:${session}`))[0]!;
      const before = await redisClient.get(key);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await redisClient.get(key), before, 'A wrote nothing after losing the lease');
    } finally {
      await redisClient.del('sandbox-terminal:lease:fwd-fenced-box');
      await close();
    }
  });
});

describe('starting a relay that shares Redis', () => {
  it('a relay on all interfaces refuses to start without an advertise URL, naming the option', async () => {
    await assert.rejects(createRelay({ port: 0, host: '0.0.0.0', logger: 'silent', redisUrl: redis.url }), /--advertise-url/);
    await assert.rejects(createRelay({ port: 0, logger: 'silent', redisUrl: redis.url, advertiseUrl: 'ftp://relay-1' }), /advertise URL must be http:\/\/host:port/);
  });
});
