import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@keyv/redis';
import { pino } from 'pino';
import { HopSignature, HOP_SIGNATURE_MAX_AGE_MS } from '../../server/src/cluster/hop-signature.ts';
import { LeaseStore } from '../../server/src/cluster/lease-store.ts';
import { SandboxLeases, type LeaseLoss } from '../../server/src/cluster/sandbox-leases.ts';
import { startRedis, type RedisServer } from './cluster-helpers.ts';
import { waitFor } from './helpers.ts';

// The lease primitives against a real redis-server: what "two relays can never both run a sandbox" rests on.

const LEASE_MS = 600;
let redis: RedisServer;
const stores: LeaseStore[] = [];
const leaseSets: SandboxLeases[] = [];

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const leases of leaseSets) leases.stop();
  await Promise.all(stores.map((store) => store.close()));
  await redis?.stop();
});

/** One relay's leases, as a relay process holds them: its own connection to Redis, its own id. */
async function relayLeases(name: string, lost: Array<{ id: string; why: LeaseLoss }> = []): Promise<SandboxLeases> {
  const store = new LeaseStore(redis.url, 60_000);
  await store.connect();
  stores.push(store);
  const leases = new SandboxLeases(store, { relay: `${name}-${Math.random()}`, url: `http://${name}.test:8787` }, LEASE_MS, (id, why) => lost.push({ id, why }), pino({ level: 'silent' }));
  leaseSets.push(leases);
  return leases;
}

describe('sandbox leases in Redis', () => {
  it('of many claims racing for one sandbox from two relays, all of one relay win and none of the other', async () => {
    const [a, b] = [await relayLeases('a'), await relayLeases('b')];
    for (let round = 0; round < 20; round++) {
      const id = `race-${round}`;
      const answers = await Promise.all([...Array(20).keys()].map((i) => (i % 2 ? a : b).claim(id)));
      const winners = new Set(answers.map((answer, i) => (answer.mine ? (i % 2 ? 'a' : 'b') : undefined)).filter(Boolean));
      assert.equal(winners.size, 1, `round ${round}: one relay won`);
      const losers = answers.filter((answer) => !answer.mine);
      assert.equal(losers.length, 10, 'every claim of the other relay lost');
      assert.equal(a.holds(id) !== b.holds(id), true);
    }
  });

  it('a held lease is renewed beyond its period; released, it goes to the next claim, which is no takeover', async () => {
    const [a, b] = [await relayLeases('a'), await relayLeases('b')];
    assert.equal((await a.claim('renewed')).mine, true);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 3));
    assert.equal(a.holds('renewed'), true);
    const meanwhile = await b.claim('renewed');
    assert.equal(meanwhile.mine, false);
    assert.equal(!meanwhile.mine && meanwhile.owner.url, 'http://a.test:8787');
    await a.release('renewed');
    const next = await b.claim('renewed');
    assert.deepEqual(next, { mine: true, takeover: undefined });
  });

  it('a lease whose holder stops renewing expires after the lease period, and the claim after it is a takeover', async () => {
    const [a, b] = [await relayLeases('a'), await relayLeases('b')];
    const claimedAt = performance.now();
    assert.equal((await a.claim('orphaned')).mine, true);
    a.stop(); // as a relay killed with kill -9: nobody renews, nobody releases
    const answer = await waitFor(async () => {
      const claim = await b.claim('orphaned');
      return claim.mine ? claim : undefined;
    }, 'the orphaned lease to expire', 5_000);
    assert.ok(performance.now() - claimedAt >= LEASE_MS - 5, 'not before the lease ran out');
    assert.equal(answer.takeover?.url, 'http://a.test:8787');
  });

  it('a lease another relay holds now is noticed at the next renewal as lost (taken)', async () => {
    const lost: Array<{ id: string; why: LeaseLoss }> = [];
    const a = await relayLeases('a', lost);
    assert.equal((await a.claim('stolen')).mine, true);
    const thief = createClient({ url: redis.url });
    await thief.connect();
    await thief.set('sandbox-terminal:lease:stolen', JSON.stringify({ relay: 'thief', url: 'http://thief.test' }), { PX: 60_000 });
    await waitFor(() => lost.length > 0, 'the loss to be noticed', 3_000);
    assert.deepEqual(lost, [{ id: 'stolen', why: 'taken' }]);
    assert.equal(a.holds('stolen'), false);
    thief.destroy();
  });

  it('a lease that expired while its holder stalled, and that nobody took, is taken again by the next renewal', async () => {
    const lost: Array<{ id: string; why: LeaseLoss }> = [];
    const a = await relayLeases('a', lost);
    assert.equal((await a.claim('stalled')).mine, true);
    const redisClient = createClient({ url: redis.url });
    await redisClient.connect();
    await redisClient.del('sandbox-terminal:lease:stalled'); // what its TTL running out while nobody renewed looks like
    const value = await waitFor(() => redisClient.get('sandbox-terminal:lease:stalled'), 'the next renewal to take it again', 3_000);
    assert.equal(JSON.parse(value).url, 'http://a.test:8787');
    assert.deepEqual(lost, []);
    assert.equal(a.holds('stalled'), true);
    redisClient.destroy();
  });

  it('without Redis, a lease counts as lost once a whole period passes unconfirmed', async () => {
    const lost: Array<{ id: string; why: LeaseLoss }> = [];
    const a = await relayLeases('a', lost);
    assert.equal((await a.claim('unconfirmed')).mine, true);
    await stores.at(-1)!.close(); // every renewal now fails
    await waitFor(() => lost.length > 0, 'the loss to be noticed', 3_000);
    assert.deepEqual(lost, [{ id: 'unconfirmed', why: 'unconfirmed' }]);
  });
});

describe('the relay-to-relay hop signature', () => {
  const key = Buffer.alloc(32, 7);
  const signature = new HopSignature(key);

  it('verifies for the same method and path only, within its age, with the same key', () => {
    const header = signature.sign({ clientAddress: '198.51.100.4' }, 'POST', '/v1/sandboxes/a/exec');
    assert.deepEqual(signature.verify(header, 'POST', '/v1/sandboxes/a/exec'), { clientAddress: '198.51.100.4' });
    assert.equal(signature.verify(header, 'GET', '/v1/sandboxes/a/exec'), undefined);
    assert.equal(signature.verify(header, 'POST', '/v1/sandboxes/b/exec'), undefined);
    assert.equal(signature.verify(header, 'POST', '/v1/sandboxes/a/exec', Date.now() + HOP_SIGNATURE_MAX_AGE_MS + 1_000), undefined);
    assert.equal(new HopSignature(Buffer.alloc(32, 8)).verify(header, 'POST', '/v1/sandboxes/a/exec'), undefined);
    const [version, , issuedAt, mac] = header.split('.');
    const otherAddress = [version, Buffer.from('10.0.0.1').toString('base64url'), issuedAt, mac].join('.');
    assert.equal(signature.verify(otherAddress, 'POST', '/v1/sandboxes/a/exec'), undefined, 'the address is signed too');
  });
});
