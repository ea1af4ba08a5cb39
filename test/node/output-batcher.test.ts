import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { OutputBatcher, OUTPUT_FRAME_BYTES, STREAMING_FRAME_BYTES } from '../../server/src/terminal/output-batcher.ts';

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
