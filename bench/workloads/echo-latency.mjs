// Workload 3: single keys typed one at a time into `cat`, from xterm's input path to the echo parsed by xterm,
// measured in the page. In rounds, each interleaving our element with reference (f) (the same keys into `cat` on the
// minimal PTY server, echoed into a bare xterm in the same page), idle and while another session of the same server
// floods output into another page (for ours, a session of the relay; for (f), another PTY of the (f) server).
import { latencies, summarize } from '../lib/stats.mjs';

export const KEYS = 1_000;
/** The flood: another session's `yes`, rendered by another page (its own renderer process). */
const FLOOD_COMMAND = 'yes flood-line-from-the-echo-bench';
/** The flood is running and rendering before the first key. */
const FLOOD_SETTLE_MS = 1_000;

const echo = (page) => page.evaluate((count) => window.bench.echo(count), KEYS);
const socketEcho = (page, url) => page.evaluate((args) => window.bench.socketEcho(args), { url, count: KEYS });

async function withRelayFlood(floodPage, measure) {
  await floodPage.evaluate((command) => {
    window.bench.run(command, 'never-printed');
  }, FLOOD_COMMAND);
  try {
    await new Promise((resolve) => setTimeout(resolve, FLOOD_SETTLE_MS));
    return await measure();
  } finally {
    await floodPage.evaluate(() => window.bench.interrupt());
  }
}

async function withReferenceFlood(floodPage, shellUrl, measure) {
  await floodPage.evaluate((args) => window.bench.socketFlood(args), { url: shellUrl, command: FLOOD_COMMAND });
  try {
    await new Promise((resolve) => setTimeout(resolve, FLOOD_SETTLE_MS));
    return await measure();
  } finally {
    await floodPage.evaluate(() => window.bench.stopSocketFlood());
  }
}

/**
 * @param {{ page: object, floodPage: object, wettyPage?: object, shellUrl: string, relay: { keyLatencies(): Promise<number[]> }, references: { keyLatencies(): Promise<number[]> }, rounds: number }} context
 */
export async function echoLatency({ page, floodPage, wettyPage, shellUrl, relay, references, rounds }) {
  const runs = { idle: [], idleReference: [], flood: [], floodReference: [], idleRelay: [], idleReferenceServer: [], floodRelay: [] };
  const all = { idle: [], idleReference: [], flood: [], floodReference: [] };
  const keep = (name, samples) => {
    runs[name].push(latencies(samples));
    all[name].push(...samples);
  };
  for (let round = 0; round < rounds; round++) {
    await relay.keyLatencies();
    keep('idle', await echo(page));
    runs.idleRelay.push(latencies(await relay.keyLatencies()));
    await references.keyLatencies();
    keep('idleReference', await socketEcho(page, shellUrl));
    runs.idleReferenceServer.push(latencies(await references.keyLatencies()));
    await withRelayFlood(floodPage, async () => {
      await relay.keyLatencies();
      keep('flood', await echo(page));
      // the keys of the echo loop, from their frame to their echo's frame inside the relay
      runs.floodRelay.push(latencies(await relay.keyLatencies()));
    });
    await withReferenceFlood(floodPage, shellUrl, async () => keep('floodReference', await socketEcho(page, shellUrl)));
  }
  const spreads = (name) => ({ p50: summarize(runs[name].map((r) => r.p50)), p99: summarize(runs[name].map((r) => r.p99)) });
  const p99Over = (ours, reference) => summarize(runs[ours].map((run, i) => run.p99 - runs[reference][i].p99));
  return {
    rounds,
    keys: KEYS,
    ...Object.fromEntries(Object.entries(all).map(([name, samples]) => [name, { pooled: latencies(samples), ...spreads(name) }])),
    // The relay's part of each key's echo: what is left of the page's figure is the browser's and the kernel's.
    idleRelay: spreads('idleRelay'),
    idleReferenceServer: spreads('idleReferenceServer'),
    /** The relay's part over (f)'s server's part, round by round: what of the idle miss is in the server side. */
    idleServerP99OverReference: p99Over('idleRelay', 'idleReferenceServer'),
    floodRelay: spreads('floodRelay'),
    idleP99OverReference: p99Over('idle', 'idleReference'),
    floodP99OverReference: p99Over('flood', 'floodReference'),
    ...(wettyPage ? { wetty: latencies(await echo(wettyPage)) } : {}),
  };
}
