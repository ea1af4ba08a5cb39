import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { FrameBuffers, OutputBatcher, OUTPUT_FRAME_BYTES, POOLED_FRAME_MIN_BYTES, STREAMING_FRAME_BYTES } from '../../server/src/terminal/output-batcher.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/batcher-exits.ts', import.meta.url));

describe('OutputBatcher', () => {
  it('joins the chunks of one turn into a frame, and sends a full frame at once', async () => {
    const frames: Buffer[] = [];
    const batcher = new OutputBatcher((data) => frames.push(data));
    batcher.push(Buffer.from('ab'));
    batcher.push(Buffer.from('cd'));
    assert.equal(frames.length, 0, 'held until the end of the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(frames.map(String), ['abcd']);
    batcher.push(Buffer.alloc(OUTPUT_FRAME_BYTES));
    assert.equal(frames.length, 2, 'a full frame does not wait');
  });

  it('joins a big frame into a reused buffer, given back only once sent, and never one still in flight', async () => {
    const pool = new FrameBuffers(2);
    const inFlight: Array<{ data: Buffer; expected: Buffer; sent?: () => void }> = [];
    const batcher = new OutputBatcher((data, sent) => inFlight.push({ data, expected: Buffer.from(data), ...(sent ? { sent } : {}) }), pool);
    const chunk = (frame: number, i: number) => Buffer.alloc(4096, (frame * 7 + i) % 251);
    const frameOf = (frame: number) => {
      for (let i = 0; i * 4096 < POOLED_FRAME_MIN_BYTES * 2; i++) batcher.push(chunk(frame, i));
      batcher.flush();
    };
    // Three frames in flight at once: three buffers, each frame intact.
    for (let frame = 0; frame < 3; frame++) frameOf(frame);
    assert.equal(pool.made, 3);
    for (const { data, expected } of inFlight) assert.ok(data.equals(expected), 'a frame in flight was overwritten');
    // Once sent, the buffers are reused: twenty more frames, sent one at a time, make no new buffer.
    for (const frame of inFlight.splice(0)) frame.sent!();
    for (let frame = 3; frame < 23; frame++) {
      frameOf(frame);
      const [sent] = inFlight.splice(0);
      assert.ok(sent!.data.equals(Buffer.concat(Array.from({ length: sent!.data.length / 4096 }, (_, i) => chunk(frame, i)))), `frame ${frame}`);
      sent!.sent!();
    }
    assert.equal(pool.made, 3, 'no buffer made while others were free');
    // Small frames are joined afresh, with no callback to wait for.
    batcher.push(Buffer.from('ab'));
    batcher.push(Buffer.from('cd'));
    batcher.flush();
    assert.equal(String(inFlight[0]!.data), 'abcd');
    assert.equal(inFlight[0]!.sent, undefined);
  });

  it('with a pool, copies each chunk as it comes: the caller reuses its buffer for the next read, as PTY reads do', async () => {
    const pool = new FrameBuffers(2);
    const frames: Array<{ data: Buffer; sent?: () => void }> = [];
    const batcher = new OutputBatcher((data, sent) => frames.push({ data: Buffer.from(data), ...(sent ? { sent } : {}) }), pool);
    const reused = Buffer.alloc(4096);
    let expected = '';
    // Small frames (one turn's echo) and a big one (a flood), each pushed from the same buffer, overwritten after.
    for (const [letter, count] of [['a', 1], ['b', 1], ['c', POOLED_FRAME_MIN_BYTES / 4096 + 2]] as const) {
      for (let i = 0; i < count; i++) {
        // The small frames stay below STREAMING_FRAME_BYTES, so each goes out at the end of its turn.
        const chunk = letter === 'c' ? reused : reused.subarray(0, 100);
        reused.fill(`${letter}${i % 10}`);
        batcher.push(chunk);
        expected += chunk.toString('latin1');
        reused.fill('X');
      }
      if (letter !== 'c') await new Promise((resolve) => setImmediate(resolve));
    }
    batcher.flush();
    assert.equal(Buffer.concat(frames.map((frame) => frame.data)).toString('latin1'), expected, 'no frame shows the overwritten buffer');
    assert.equal(frames.length, 3);
    assert.equal(frames[0]!.sent, undefined, 'a small frame is a copy of its own: no pooled buffer waits for its socket');
    assert.equal(typeof frames[2]!.sent, 'function', 'a big frame goes out in its pooled buffer');
    assert.equal(pool.made, 1, 'small frames gave their buffer back at once: the big one reused it');
  });

  it('while output streams, holds frames on a timer and cancels it cleanly: the process is left with no timer or immediate', async () => {
    // In a child process: a timer miscounted by Node keeps the event loop alive (a relay that never exits), or spins
    // it, or makes getActiveResourcesInfo() abort.
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      execFile(process.execPath, [...process.execArgv, FIXTURE], { timeout: 20_000 }, (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve({ stdout: out })));
    });
    const { frames, resources } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { frames: number[]; resources: string[] };
    assert.deepEqual(frames, [STREAMING_FRAME_BYTES + 100, 30, 30]);
    assert.deepEqual(resources, []);
  });
});
