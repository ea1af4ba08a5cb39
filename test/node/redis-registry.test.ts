import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@keyv/redis';
import { SandboxError } from '@sandbox-terminal/client';
import { DEFAULT_LIMITS, createRelay } from '@sandbox-terminal/server';
import { freePort, startRedis, type RedisServer } from './cluster-helpers.ts';
import { startRelay, waitFor } from './helpers.ts';

let redis: RedisServer | undefined;
// Workspaces on storage both relays see (as a shared volume would be); session records only in Redis.
const dataDir = mkdtempSync(join(tmpdir(), 'redis-registry-test-'));

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Redis session registry', () => {
  it('a session created on relay A is found asleep on relay B after A is replaced, and recreated there with its cwd and env', async () => {
    const relayA = await startRelay({ redisUrl: redis!.url, dataDir });
    const onA = relayA.sandbox('shared-box');
    const session = await onA.createSession();
    await onA.exec('mkdir -p /workspace/app && cd /workspace/app && export GREETING="hello from A"', { session });
    await relayA.close();

    const relayB = await startRelay({ redisUrl: redis!.url, dataDir });
    try {
      const onB = relayB.sandbox('shared-box');
      assert.equal((await onB.getSession(session)).status, 'sleeping');
      const result = await onB.exec('pwd; echo "$GREETING"', { session });
      assert.equal(result.sessionRecreated, true);
      assert.equal(result.stdout, '/workspace/app\nhello from A\n');
      assert.deepEqual((await onB.listSessions()).map((info) => info.id), [session]);
    } finally {
      await relayB.close();
    }
    assert.equal(existsSync(join(dataDir, 'sessions.sqlite')), false, 'Redis replaced the SQLite registry of the data dir');
  });

  it('the records are in Redis, under the relay namespace, with a TTL', async () => {
    const relay = await startRelay({ redisUrl: redis!.url, dataDir });
    const client = createClient({ url: redis!.url });
    try {
      await client.connect();
      const session = await relay.sandbox('ttl-box').createSession();
      const key = await waitFor(async () => (await client.keys('sandbox-terminal*')).find((candidate) => candidate.endsWith(`session:ttl-box:${session}`)), 'the session record in Redis');
      const ttlMs = await client.pTTL(key);
      assert.ok(ttlMs > 0 && ttlMs <= DEFAULT_LIMITS.sessionRecordTtlMs, `a TTL within the record TTL, not ${ttlMs}`);
      assert.equal((JSON.parse(String(await client.get(key))) as { value: { cwd: string } }).value.cwd, '/workspace');
    } finally {
      if (client.isOpen) client.destroy();
      await relay.close();
    }
  });

  it('a session deleted on one relay is not found on another sharing the registry', async () => {
    const relayA = await startRelay({ redisUrl: redis!.url, dataDir });
    const relayB = await startRelay({ redisUrl: redis!.url, dataDir });
    try {
      const session = await relayA.sandbox('delete-box').createSession();
      assert.equal((await relayB.sandbox('delete-box').getSession(session)).status, 'active', 'B sees it as A runs it (B forwards the call to A, the owner)');
      await relayA.sandbox('delete-box').deleteSession(session);
      await assert.rejects(relayB.sandbox('delete-box').exec('true', { session }), (error: SandboxError) => error.code === 'SESSION_NOT_FOUND');
    } finally {
      await relayA.close();
      await relayB.close();
    }
  });

  it('a relay pointed at an unreachable Redis refuses to start and says where it tried', async () => {
    const port = await freePort();
    await assert.rejects(
      createRelay({ port: 0, logger: 'silent', redisUrl: `redis://user:s3cret@127.0.0.1:${port}` }),
      (error: Error) => error.message.includes(`Redis at redis://user:***@127.0.0.1:${port}`) && error.message.includes('ECONNREFUSED') && !error.message.includes('s3cret'),
    );
  });
});
