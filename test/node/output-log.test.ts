// The output log's ring buffer (server/src/session/output-log.ts) against the plainest model of what it promises:
// every byte ever appended has its position; the log keeps the last `limitBytes` of them, never drops one at or
// after retainFrom(), and hands back exactly the bytes from any position it still holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputLog } from '../../server/src/session/output-log.ts';
import { seededRandom } from './seeded-random.ts';

describe('output log', () => {
  it('after random appends (some bigger than the limit), it holds exactly the last limitBytes (20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = seededRandom(seed);
      const limit = 1000 + Math.floor(next() * 20_000);
      const start = Math.floor(next() * 1e6);
      const log = new OutputLog(limit, start);
      let all = Buffer.alloc(0);
      for (let i = 0; i < 300; i++) {
        const length = next() < 0.05 ? Math.floor(next() * limit * 2) + 1 : Math.floor(next() * 2000) + 1;
        const chunk = Buffer.alloc(length);
        for (let b = 0; b < length; b++) chunk[b] = Math.floor(next() * 256);
        log.append(chunk);
        all = Buffer.concat([all, chunk]);
        const end = start + all.length;
        assert.equal(log.end, end, `seed ${seed}: end`);
        assert.equal(log.start, Math.max(start, end - limit), `seed ${seed}: start`);
        assert.ok(log.capacity <= limit, `seed ${seed}: ring ${log.capacity} over the limit ${limit}`);
        const from = log.start + Math.floor(next() * (log.size + 1));
        assert.ok(log.readFrom(from)!.equals(all.subarray(from - start)), `seed ${seed}: bytes from ${from}`);
      }
      assert.equal(log.readFrom(log.start - 1), undefined);
      assert.equal(log.readFrom(log.end + 1), undefined);
      assert.equal(log.readFrom(log.end)!.length, 0);
    }
  });

  it('never drops a byte at or after retainFrom(), and drops down to the limit once it moves on', () => {
    let retainFrom = 0;
    const log = new OutputLog(10_000, 0, () => retainFrom);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const chunk = Buffer.from(`chunk ${i} `.padEnd(1000, String.fromCharCode(97 + (i % 26))));
      chunks.push(chunk);
      log.append(chunk);
    }
    assert.equal(log.start, 0, 'a mirror that parsed nothing keeps everything');
    assert.ok(log.readFrom(0)!.equals(Buffer.concat(chunks)));
    retainFrom = 30_000;
    log.append(Buffer.from('x'));
    assert.equal(log.start, 30_000, 'past the limit, down to what the mirror still needs');
    retainFrom = Number.POSITIVE_INFINITY;
    log.append(Buffer.from('y'));
    assert.equal(log.start, log.end - 10_000, 'back within the limit');
    assert.ok(log.readFrom(log.start)!.equals(Buffer.concat([...chunks, Buffer.from('xy')]).subarray(log.start)));
  });

  it('the views it hands out keep their bytes while a lagging reader still needs them (wrap and growth, 20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = seededRandom(seed);
      // A reader (the mirror) that holds views and consumes them late: the log must not overwrite what it holds.
      const held: Array<{ position: number; view: Buffer; expected: Buffer }> = [];
      let consumedTo = 0;
      let position = 0;
      const log = new OutputLog(2000 + Math.floor(next() * 8000), 0, () => consumedTo);
      for (let i = 0; i < 400; i++) {
        const chunk = Buffer.alloc(Math.floor(next() * 3000) + 1);
        for (let b = 0; b < chunk.length; b++) chunk[b] = Math.floor(next() * 256);
        let at = position;
        log.append(chunk, (view) => {
          held.push({ position: at, view, expected: Buffer.from(chunk.subarray(at - position, at - position + view.length)) });
          at += view.length;
        });
        assert.equal(at, position + chunk.length, `seed ${seed}: the views cover the chunk`);
        position += chunk.length;
        // The reader consumes a random number of the oldest views, checking each is still intact.
        for (let take = Math.floor(next() * 4); take > 0 && held.length; take--) {
          const { position: from, view, expected } = held.shift()!;
          assert.ok(view.equals(expected), `seed ${seed}: bytes at ${from} changed before they were read`);
          consumedTo = from + view.length;
        }
      }
      for (const { view, expected } of held) assert.ok(view.equals(expected), `seed ${seed}: a held view changed`);
    }
  });

  it('an idle session’s log stays small: the ring grows with the output it holds', () => {
    const log = new OutputLog(4 * 1024 * 1024);
    log.append(Buffer.from('user@sandbox:/workspace$ '));
    assert.ok(log.capacity <= 4096, `ring of ${log.capacity} bytes for a prompt`);
    for (let i = 0; i < 100; i++) log.append(Buffer.alloc(4096, 65));
    assert.ok(log.capacity >= log.size && log.capacity <= 2 * log.size, `ring of ${log.capacity} for ${log.size} bytes`);
  });
});
