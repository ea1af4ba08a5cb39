// Typing in one session paces the bulk output of the others (server/src/session/typing-priority.ts): the token
// bucket and its load gate on an explicit clock, then a real flood on a real relay while a viewer types elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostCpuTimes } from '../../server/src/session/host-cpu-times.ts';
import { HostLoadGauge, OutputPacer, PACING_BURST_BYTES, TypingPriority, type LoadGauge } from '../../server/src/session/typing-priority.ts';
import { startRelay, TerminalClient } from './helpers.ts';

/** A load the test sets by hand. */
class FixedLoad implements LoadGauge {
  constructor(public value: number) {}
  busyFraction(): number {
    return this.value;
  }
}

/** Keeps this process's CPU busy for `ms` of wall time; returns the CPU time it got, in ms. */
function burn(ms: number): number {
  const before = process.cpuUsage();
  const until = performance.now() + ms;
  while (performance.now() < until);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const RATE = 100_000; // bytes per second: 100 bytes per ms
const WINDOW_MS = 1_000;

describe('TypingPriority and OutputPacer', () => {
  const typist = {};
  const flooder = {};

  it('paces nobody while nobody types, and never the typing session itself', () => {
    const priority = new TypingPriority(RATE, WINDOW_MS, 0.85, new FixedLoad(1));
    const flood = new OutputPacer(priority, flooder);
    assert.equal(flood.spend(10 * PACING_BURST_BYTES, 0), 0);
    priority.typed(typist, 10);
    const own = new OutputPacer(priority, typist);
    assert.equal(own.spend(10 * PACING_BURST_BYTES, 11), 0, 'the session being typed into is not paced');
  });

  it('holds another session to the rate, above a burst, while the typing lasts', () => {
    const priority = new TypingPriority(RATE, WINDOW_MS, 0.85, new FixedLoad(1));
    const flood = new OutputPacer(priority, flooder);
    flood.spend(0, 0);
    priority.typed(typist, 0);
    assert.equal(flood.spend(PACING_BURST_BYTES, 0), 0, 'the burst goes at once');
    assert.equal(flood.spend(5_000, 0), 50, '5 000 bytes over the burst wait 50 ms at 100 bytes/ms');
    assert.equal(flood.spend(1_000, 50), 10, 'after the wait the credit is back at 0; 1 000 more bytes wait 10 ms');
    priority.typed(typist, 500);
    assert.ok(flood.spend(PACING_BURST_BYTES * 2, 600) > 0, 'still paced within the window of the last key');
    assert.equal(flood.spend(PACING_BURST_BYTES * 2, 500 + WINDOW_MS + 1), 0, 'free once the window has passed');
    assert.equal(flood.spend(PACING_BURST_BYTES, 500 + WINDOW_MS + 2), 0, 'with a full burst again');
  });

  it('starts pacing only under load, and keeps it until the typing stops', () => {
    const load = new FixedLoad(0.5);
    const priority = new TypingPriority(RATE, WINDOW_MS, 0.85, load);
    const flood = new OutputPacer(priority, flooder);
    priority.typed(typist, 0);
    assert.equal(flood.spend(PACING_BURST_BYTES * 4, 1), 0, 'a machine with room to spare is not paced');
    load.value = 0.9;
    assert.ok(flood.spend(PACING_BURST_BYTES * 4, 2) > 0, 'paced once the load passes the threshold');
    load.value = 0.2; // as it falls because of the pacing itself
    priority.typed(typist, 100);
    assert.ok(flood.spend(PACING_BURST_BYTES * 4, 200) > 0, 'still paced while the typing goes on');
    priority.typed(typist, 100 + WINDOW_MS + 500);
    assert.equal(flood.spend(PACING_BURST_BYTES * 4, 100 + WINDOW_MS + 501), 0, 'a new stretch of typing asks the load again');
  });

  it('does nothing when turned off (rate 0) or for a forgotten session', () => {
    const off = new TypingPriority(0, WINDOW_MS, 0, new FixedLoad(1));
    off.typed(typist, 0);
    assert.equal(new OutputPacer(off, flooder).spend(PACING_BURST_BYTES * 4, 1), 0);
    const priority = new TypingPriority(RATE, WINDOW_MS, 0, new FixedLoad(1));
    priority.typed(typist, 0);
    priority.forget(typist);
    assert.equal(new OutputPacer(priority, flooder).spend(PACING_BURST_BYTES * 4, 1), 0);
  });
});

describe('a flood while someone types in another session', () => {
  const PACED_RATE = 128 * 1024;
  const PACED_MS = 1_500;
  const LAST = 600_000;

  it('is held to bulkOutputBytesPerSecond while the typing lasts, then runs free, and loses no line', { timeout: 120_000 }, async () => {
    const env = await startRelay({ limits: { bulkOutputBytesPerSecond: PACED_RATE, typingWindowMs: 300, bulkOutputPacingLoad: 0 } });
    const sandbox = env.sandbox();
    const flood = await TerminalClient.open(sandbox, await sandbox.createSession());
    const typist = await TerminalClient.open(sandbox, await sandbox.createSession());
    const keys = setInterval(() => typist.type('x'), 50);
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      flood.type(`seq 1 ${LAST}\r`);
      const before = flood.output.length;
      await new Promise((resolve) => setTimeout(resolve, PACED_MS));
      const paced = flood.output.length - before;
      // burst + rate × time, plus one PTY read in flight and the echoed command line
      const bound = PACING_BURST_BYTES + (PACED_RATE * PACED_MS) / 1000 + 2 * 64 * 1024;
      assert.ok(paced > 0, 'the flood ran while paced');
      assert.ok(paced <= bound, `paced output ${paced} bytes is within ${bound}`);
      clearInterval(keys);
      const released = flood.output.length;
      await new Promise((resolve) => setTimeout(resolve, PACED_MS));
      assert.ok(flood.output.length - released > bound, 'without typing the flood goes faster than the paced bound');
      await flood.waitForOutput(`\r\n${LAST}\r\n`, 60_000);
      const lines = flood.output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').split('\r\n').map((line) => line.replace(/^\r/, ''));
      const numbers = lines.filter((line) => /^\d+$/.test(line)).map(Number);
      assert.equal(numbers.length, LAST, 'every line arrived');
      assert.ok(numbers.every((value, index) => value === index + 1), 'in order');
    } finally {
      clearInterval(keys);
      flood.close();
      typist.close();
      await env.close();
    }
  });
});

describe('HostCpuTimes and HostLoadGauge', () => {
  it("count this process's own CPU time as the host's busy time, in milliseconds", () => {
    const times = new HostCpuTimes();
    try {
      const before = times.read();
      const own = burn(300);
      const after = times.read();
      const busy = after.busy - before.busy;
      assert.ok(after.total >= before.total && busy <= after.total - before.total, 'busy is part of the total');
      // Ticks are 10 ms, per CPU: allow one tick of rounding at each end.
      assert.ok(busy >= own - 20, `host busy ${busy} ms must include this process's ${own.toFixed(0)} ms`);
      assert.ok(after.total - before.total < 300 * 64, 'milliseconds, not ticks or microseconds');
    } finally {
      times.close();
    }
  });

  it('reads the load over at least 100 ms: a busy event loop shows, and stays within 0–1', () => {
    const gauge = new HostLoadGauge();
    try {
      const start = performance.now();
      assert.equal(gauge.busyFraction(start), 0, 'nothing measured yet');
      burn(150);
      const load = gauge.busyFraction(performance.now());
      assert.ok(load >= 0.9 && load <= 1, `an event loop blocked for the whole interval reads as busy (got ${load})`);
    } finally {
      gauge.dispose();
    }
  });
});
