import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runLoad } from '../../scripts/load/run-load.ts';

// The load test of `npm run load`, scaled down to fit the suite: the same relay process, checks and clean-up.
const TERMINALS = 12;
const EXEC_LOOPS = 3;
const DURATION_MS = 6_000;

it(`under load (${TERMINALS} streaming terminals, ${EXEC_LOOPS} exec loops), no stream loses or repeats a line and every exec answers right`, async () => {
  const report = await runLoad({ terminals: TERMINALS, execLoops: EXEC_LOOPS, durationMs: DURATION_MS, sessionsPerSandbox: 5 });
  assert.deepEqual(report.errors, []);
  assert.ok(report.fewestTerminalLines > 0, 'a terminal received no numbered line: its stream never started');
  assert.ok(report.execs >= EXEC_LOOPS, `only ${report.execs} execs ran`);
  assert.ok(report.relayRss.peakBytes > 0 && report.treeRssPeakBytes >= report.relayRss.peakBytes, 'memory was not sampled');
});

it(`behind HAProxy, three relays sharing Redis carry the same load (round robin, so most calls are forwarded) with no error`, { timeout: 180_000 }, async () => {
  const report = await runLoad({ terminals: TERMINALS, execLoops: EXEC_LOOPS, durationMs: DURATION_MS, sessionsPerSandbox: 5, relays: 3, balance: 'roundrobin' });
  assert.deepEqual(report.errors, []);
  assert.ok(report.fewestTerminalLines > 0, 'a terminal received no numbered line: its stream never started');
  assert.ok(report.execs >= EXEC_LOOPS, `only ${report.execs} execs ran`);
  assert.ok(report.forwarded.http > 0 && report.forwarded.websocket > 0, `the relays forwarded calls to one another: ${JSON.stringify(report.forwarded)}`);
});
