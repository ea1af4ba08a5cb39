// Workload 6: the relay drops the terminal socket while the session prints; time until its output is written in the
// page again. Then the sandbox is put to sleep; time from Enter to the restored prompt.
import { latencies } from '../lib/stats.mjs';

/** Output that keeps coming, so "resumed" is the first write after the reconnection. */
const TICKER = 'while :; do echo tick; sleep 0.01; done';
/**
 * partysocket counts retries until a connection has been up for its `minUptime` (5 s): drops closer together than
 * that back off further each time. A real network drop is rarer, so the drops with the default policy are spaced.
 */
const DEFAULT_POLICY_DROPS = 3;
const DEFAULT_POLICY_SPACING_MS = 5_500;
/** With `reconnectPolicy = { minDelayMs: 0 }`: what resuming itself costs (socket, attach, replay). */
const IMMEDIATE_DROPS = 5;
const IMMEDIATE_SPACING_MS = 300;
export const IMMEDIATE_POLICY = { minDelayMs: 0, jitterRatio: 0 };
const WAKES = 5;

async function drops({ page, relay, sandbox, count, spacingMs }) {
  const times = [];
  await page.evaluate((command) => {
    window.bench.run(command, 'never-printed');
  }, TICKER);
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
    const resumed = page.evaluate(() => window.bench.watchResume());
    // evaluate's script has run (and armed its listeners) well within this
    await new Promise((resolve) => setTimeout(resolve, 50));
    const droppedAt = Date.now();
    await relay.dropConnections(sandbox);
    times.push((await resumed) - droppedAt);
  }
  await page.evaluate(() => window.bench.interrupt());
  return latencies(times);
}

/** @param {{ page: import('playwright-core').Page, immediatePage: import('playwright-core').Page }} context */
export async function reconnect({ page, immediatePage, relay, sandbox, immediateSandbox }) {
  const result = {
    reconnect: await drops({ page, relay, sandbox, count: DEFAULT_POLICY_DROPS, spacingMs: DEFAULT_POLICY_SPACING_MS }),
    reconnectImmediate: await drops({ page: immediatePage, relay, sandbox: immediateSandbox, count: IMMEDIATE_DROPS, spacingMs: IMMEDIATE_SPACING_MS }),
  };
  const wakes = [];
  for (let i = 0; i < WAKES; i++) {
    await relay.sleepSandbox(sandbox);
    await page.evaluate(() => window.bench.waitState('asleep'));
    wakes.push(await page.evaluate(() => window.bench.wake()));
  }
  return { ...result, wake: latencies(wakes) };
}
