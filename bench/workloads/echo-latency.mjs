// Workloads 2 and 3: single keys typed one at a time into `cat`, from xterm's input path to the echo parsed by
// xterm, measured in the page. Idle, against wetty and the minimal PTY server of reference (f), and while another
// session of the same relay floods output.
import { startPtySocketSource } from '../lib/socket-source.mjs';
import { latencies } from '../lib/stats.mjs';

export const KEYS = 1_000;
/** The flood of workload 3: another sandbox's session, rendered by another page (its own renderer process). */
const FLOOD_COMMAND = 'yes flood-line-from-the-echo-bench';

const echo = (page) => page.evaluate((count) => window.bench.echo(count), KEYS);

export async function echoLatency({ page, wettyPage }) {
  const result = { element: latencies(await echo(page)) };
  // What the platform allows: the same keys through node-pty and ws alone, into a bare xterm in the same page.
  const ptySource = await startPtySocketSource('cat');
  try {
    result.ptySocket = latencies(await page.evaluate((args) => window.bench.socketEcho(args), { url: ptySource.url, count: KEYS }));
  } finally {
    await ptySource.close();
  }
  if (wettyPage) result.wetty = latencies(await echo(wettyPage));
  return result;
}

/** @param {{ page: object, floodPage: object, relay: { keyLatencies(): Promise<number[]> } }} context */
export async function echoUnderLoad({ page, floodPage, relay }) {
  await floodPage.evaluate((command) => {
    window.bench.run(command, 'never-printed');
  }, FLOOD_COMMAND);
  try {
    // the flood is running and rendering before the first key
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await relay.keyLatencies();
    const element = latencies(await echo(page));
    // the keys of the echo loop, from their frame to their echo's frame inside the relay
    return { element, relay: latencies(await relay.keyLatencies()) };
  } finally {
    await floodPage.evaluate(() => window.bench.interrupt());
  }
}
