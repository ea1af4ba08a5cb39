import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { spawn, type IPty } from 'node-pty';
import { PTY_DRAIN_AFTER_EXIT_MS, PtyOutput } from '../../server/src/session/pty-output.ts';
import { waitFor } from './helpers.ts';

const ptys: IPty[] = [];
after(() => ptys.forEach((pty) => pty.kill('SIGKILL')));

/** A real bash on a real PTY, as the unisolated backend spawns it (raw bytes, no decoding). */
function bashOnPty(script: string): IPty {
  const pty = spawn('/bin/bash', ['--norc', '--noprofile', '-c', script], { name: 'xterm', cols: 80, rows: 24, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: null });
  ptys.push(pty);
  return pty;
}

/** Reads `pty` with PtyOutput; keeps a copy of every read (the views are only valid during the call) and the views' buffers. */
function readAll(pty: IPty): { output: PtyOutput; text: () => string; bytes: () => number; backingBuffers: Set<ArrayBufferLike> } {
  const chunks: Buffer[] = [];
  const backingBuffers = new Set<ArrayBufferLike>();
  const output = PtyOutput.forPty(pty, (view) => {
    backingBuffers.add(view.buffer);
    chunks.push(Buffer.from(view));
  });
  return { output, text: () => Buffer.concat(chunks).toString('latin1'), bytes: () => chunks.reduce((sum, chunk) => sum + chunk.length, 0), backingBuffers };
}

const exitOf = (pty: IPty) => new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
/** `seq 1 n` as the terminal shows it (the PTY turns each newline into CR LF). */
const seqOnTerminal = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\r\n`).join('');

describe('PtyOutput', { timeout: 30_000 }, () => {
  it('reads everything a program writes, in order, into one buffer reused for every read; node-pty reads nothing', async () => {
    const pty = bashOnPty('seq 1 200000');
    let nodePtyReads = 0;
    pty.onData(() => nodePtyReads++);
    const { output, text, backingBuffers } = readAll(pty);
    await exitOf(pty);
    await output.drainAfterExit();
    assert.equal(text(), seqOnTerminal(200000));
    assert.equal(backingBuffers.size, 1, 'every read went into the same buffer: no allocation per read');
    assert.equal(nodePtyReads, 0, 'node-pty’s own reader was closed before it read anything');
    assert.throws(() => pty.resize(100, 30), /disabled/, 'node-pty’s resize would act on a closed descriptor');
  });

  it('reads a shell’s last output whole though reads of the master return nothing while the kernel hangs it up', async () => {
    // node-pty took the first empty read for the end: the last few KB were lost in most runs.
    for (let run = 0; run < 5; run++) {
      const pty = bashOnPty('seq 1 100000');
      const { output, text } = readAll(pty);
      await output.ended;
      const shown = text();
      assert.ok(shown.endsWith('\r\n99999\r\n100000\r\n'), `run ${run}: ends with ${JSON.stringify(shown.slice(-30))}`);
      assert.equal(shown.length, seqOnTerminal(100000).length, `run ${run}`);
    }
  });

  it('reads nothing while paused (the program blocks on a full PTY) and loses nothing once resumed', async () => {
    const pty = bashOnPty('seq 1 100000; echo done');
    const { output, text, bytes } = readAll(pty);
    output.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(bytes(), 0, 'no read happens while paused');
    // Resumed and paused again in one turn (flow control can): still nothing is read.
    output.resume();
    output.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(bytes(), 0, 'a pause in the turn of a resume holds');
    output.resume();
    await waitFor(() => text().endsWith('done\r\n'), 'the rest arrives once resumed');
    assert.equal(text(), `${seqOnTerminal(100000)}done\r\n`);
    output.close();
  });

  it('resizes through the relay’s own descriptor: the program sees the new size', async () => {
    const pty = bashOnPty('sleep 0.2; stty size');
    const { output, text } = readAll(pty);
    output.resize(132, 50);
    await waitFor(() => text().includes('50 132'), 'stty shows 50 rows and 132 columns');
    output.close();
  });

  it('after the shell exits, reads what it left in the PTY even while paused, then ends', async () => {
    const pty = bashOnPty('printf "%s\\n" {1..300}; exit 3');
    const { output, text } = readAll(pty);
    output.pause();
    const exitCode = await exitOf(pty);
    assert.equal(exitCode, 3);
    const startedAt = Date.now();
    await output.drainAfterExit();
    assert.equal(text(), seqOnTerminal(300));
    assert.ok(Date.now() - startedAt < PTY_DRAIN_AFTER_EXIT_MS * 5, 'ended by the PTY’s end, not by waiting out the bound');
  });

  it('stops waiting after PTY_DRAIN_AFTER_EXIT_MS when the PTY does not end, and closes its descriptor', async () => {
    // The kernel hangs up a terminal whose session leader exits, which ends the master's output at once; the bound is
    // for a PTY that does not end all the same (here, a shell that is still running).
    const pty = bashOnPty('echo started; sleep 5');
    const { output, text } = readAll(pty);
    await waitFor(() => text().includes('started'), 'the shell runs');
    const startedAt = Date.now();
    await output.drainAfterExit();
    const waited = Date.now() - startedAt;
    assert.ok(waited >= PTY_DRAIN_AFTER_EXIT_MS - 20 && waited < 5_000, `waited ${waited} ms`);
    let ended = false;
    await Promise.race([output.ended.then(() => (ended = true)), new Promise((resolve) => setTimeout(resolve, 100))]);
    assert.ok(ended, 'the reader ended');
  });

  it('once its output has ended, a resize touches no descriptor (its number may belong to another file by then)', async () => {
    const pty = bashOnPty('exit 0');
    const { output } = readAll(pty);
    await exitOf(pty);
    await output.drainAfterExit();
    // Descriptors closed since are reused lowest first: this file very likely has the number the reader had.
    const reused = openSync('/dev/null', 'r');
    try {
      // An ioctl on /dev/null would throw ENOTTY; on a closed number, EBADF.
      assert.doesNotThrow(() => output.resize(100, 30));
    } finally {
      closeSync(reused);
    }
  });
});
