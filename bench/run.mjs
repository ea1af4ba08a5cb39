// `npm run bench`: every workload of the benchmarks issues (6 and 21), side by side in one run on this machine, and
// the table in BENCHMARKS.md (between its bench markers; the previous run's table is kept below it). Ratios to
// references measured in the same run, pair by pair in interleaved runs, are the point: absolute times on a shared
// 2-core machine are noisy.
//   npm run bench -- --only throughput,echo   (workloads: bundle memory throughput echo reconnect exec)
//   npm run bench -- --repetitions 3 --no-write   (interleaved runs of each measurement; default 5)
//   npm run bench -- --only exec --keep-cpus-awake --no-write   (a diagnostic: no CPU idles, see lib/cpu-wakers.mjs)
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { keepCpusAwake } from './lib/cpu-wakers.mjs';
import { loadAverage, machine } from './lib/machine.mjs';
import { startPageServer, benchHelpersScript } from './lib/page-server.mjs';
import { ensurePeers, peerVersion, startWetty } from './lib/peers.mjs';
import { killAllGroups } from './lib/processes.mjs';
import { startReferences } from './lib/reference-host.mjs';
import { startRelay } from './lib/relay-process.mjs';
import { writeReport } from './lib/report.mjs';
import { bundle } from './workloads/bundle.mjs';
import { echoLatency } from './workloads/echo-latency.mjs';
import { exec } from './workloads/exec.mjs';
import { memory } from './workloads/memory.mjs';
import { IMMEDIATE_POLICY, reconnect } from './workloads/reconnect.mjs';
import { throughput } from './workloads/throughput.mjs';

const WORKLOADS = ['bundle', 'memory', 'throughput', 'echo', 'reconnect', 'exec'];
/** The element's box in every page, wetty's page included (its terminal fills the window). */
const TERMINAL_PX = { width: 900, height: 500 };

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    repetitions: { type: 'string', default: '5' },
    'no-write': { type: 'boolean', default: false },
    'keep-cpus-awake': { type: 'boolean', default: false },
  },
});
const only = new Set(values.only ? values.only.split(',') : WORKLOADS);
const wanted = (name) => only.has(name);
const repetitions = Number(values.repetitions);

const started = performance.now();
const results = { date: new Date().toISOString(), machine: machine(), loadBefore: loadAverage(), repetitions, command: process.argv.slice(2).length ? `npm run bench -- ${process.argv.slice(2).join(' ')}` : 'npm run bench' };
const log = (message) => console.error(`bench: ${message} (${((performance.now() - started) / 1000).toFixed(0)} s, load ${loadAverage()})`);

async function withWetty(run) {
  try {
    await ensurePeers();
    results.versions = { wetty: peerVersion('wetty'), cloudflareSandbox: peerVersion('@cloudflare/sandbox') };
  } catch (error) {
    results.wettyError = `the peers could not be installed: ${error.message}`;
    return run(undefined);
  }
  let wetty;
  try {
    wetty = await startWetty();
  } catch (error) {
    results.wettyError = error.message;
    return run(undefined);
  }
  try {
    return await run(wetty);
  } finally {
    await wetty.close();
  }
}

async function browserWorkloads() {
  const needsBrowser = ['throughput', 'echo', 'reconnect'].some(wanted);
  if (!needsBrowser && !wanted('exec')) return;
  const relay = await startRelay();
  try {
    if (wanted('exec')) {
      log('exec');
      results.exec = await exec({ relayUrl: relay.url, relayPid: relay.pid, rounds: repetitions });
    }
    if (!needsBrowser) return;
    const server = await startPageServer();
    const references = await startReferences();
    const { browser, version } = await launchBrowser();
    results.machine.chromium = version;
    try {
      await withWetty(async (wetty) => {
        const main = await openPage(browser, server.url);
        const mount = (page, sandbox) => page.evaluate((args) => window.bench.mountElement(args), { relay: relay.url, sandbox, ...TERMINAL_PX });
        results.terminal = { element: await mount(main.page, 'bench-main') };
        let wettyPage;
        if (wetty && ['throughput', 'echo'].some(wanted)) {
          wettyPage = (await openPage(browser, wetty.url, { ...TERMINAL_PX, initScript: await benchHelpersScript() })).page;
          results.terminal.wetty = await wettyPage.evaluate(() => window.bench.useWetty());
        }
        if (wanted('throughput')) {
          log('throughput');
          results.throughput = await throughput({ page: main.page, wettyPage, relay, references, repetitions });
        }
        if (wanted('echo')) {
          log('echo latency, idle and under a flood');
          const flood = await openPage(browser, server.url);
          await mount(flood.page, 'bench-flood');
          results.echo = await echoLatency({ page: main.page, floodPage: flood.page, wettyPage, shellUrl: references.shellUrl, relay, references, rounds: repetitions });
          await flood.close();
        }
        if (wanted('reconnect')) {
          log('reconnect and wake');
          const page = await openPage(browser, server.url);
          await mount(page.page, 'bench-reconnect');
          const immediate = await openPage(browser, server.url);
          await immediate.page.evaluate((args) => window.bench.mountElement(args), { relay: relay.url, sandbox: 'bench-reconnect-now', reconnectPolicy: IMMEDIATE_POLICY, ...TERMINAL_PX });
          results.reconnect = await reconnect({ page: page.page, immediatePage: immediate.page, relay, sandbox: 'bench-reconnect', immediateSandbox: 'bench-reconnect-now' });
          await immediate.close();
          await page.close();
        }
      });
    } finally {
      await browser.close();
      await references.close();
      await server.close();
    }
  } finally {
    await relay.close();
  }
}

const wakers = values['keep-cpus-awake'] ? keepCpusAwake() : undefined;
if (wakers) results.cpusKeptAwake = wakers.count;
try {
  if (wanted('bundle')) {
    log('bundle');
    await ensurePeers().catch(() => undefined);
    results.bundle = await bundle();
  }
  if (wanted('memory')) {
    log('memory');
    results.memory = await memory();
  }
  await browserWorkloads();
  await wakers?.stop();
  results.loadAfter = loadAverage();
  results.wallSeconds = (performance.now() - started) / 1000;
  log('done');
  const dir = fileURLToPath(new URL('./.results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}latest.json`, JSON.stringify(results, null, 2));
  // A diagnostic run never replaces the table the goals are judged on.
  const table = writeReport(results, { write: !values['no-write'] && !wakers && only.size === WORKLOADS.length });
  console.log(table);
} finally {
  killAllGroups();
}
