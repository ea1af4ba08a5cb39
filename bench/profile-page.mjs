// `npm run bench:profile-page`: where the browser's CPU per MiB goes while the element renders a flood, beside
// references (f) and (e) in the same page: CPU per Chromium process type (renderer, GPU, network, browser), and a
// DevTools CPU profile of the renderer's main thread with self time grouped by where the code comes from (xterm,
// the element's packages, lit, partysocket, the page, the renderer's own work).
//   npm run bench:profile-page -- --workload long|short --runs 3 --dir DIR
// BENCH_PAGE_MINIFY=0 keeps names in the page's bundle. Before the floods it prints the CPU of 3 s with nothing to
// draw, which shows whether anything on the page animates by itself.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { threadsNs } from './lib/cpu-time.mjs';
import { startPageServer } from './lib/page-server.mjs';
import { startReferences } from './lib/reference-host.mjs';
import { startRelay } from './lib/relay-process.mjs';
import { MARKER, THROUGHPUT_WORKLOADS } from './lib/workload-data.mjs';

const TERMINAL_PX = { width: 900, height: 500 };
const MIB = 1024 * 1024;
const { values } = parseArgs({ options: { workload: { type: 'string', default: 'long' }, runs: { type: 'string', default: '3' }, dir: { type: 'string', default: 'bench-profiles' }, 'element-style': { type: 'string', default: '' }, only: { type: 'string', default: 'element,f,e' } } });
const workload = THROUGHPUT_WORKLOADS[values.workload];
if (!workload) throw new Error(`--workload is one of ${Object.keys(THROUGHPUT_WORKLOADS).join(', ')}`);
const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });
const mib = (workload.outputBytes + workload.lines) / MIB;

/** CPU ns per Chromium process type, from every process whose command line is Chromium's. */
function chromiumCpu() {
  const byType = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.startsWith('/usr/lib/chromium/chromium') && !cmdline.startsWith('/usr/bin/chromium')) continue;
      const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
      const kind = type === 'utility' ? (/--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1] ?? 'utility') : type;
      byType[kind] = (byType[kind] ?? 0) + threadsNs(entry);
    } catch {}
  }
  return byType;
}

const relay = await startRelay();
const references = await startReferences();
const server = await startPageServer();
const { browser } = await launchBrowser();
const totals = {};
// esbuild marks each module's start in an unminified bundle with a `// path` comment line: line number → module.
const bundleLines = (await (await fetch(new URL('bench.js', server.url))).text()).split('\n');
const moduleStarts = bundleLines.flatMap((line, index) => (/^\/\/ (\S+\.[mc]?[jt]s)$/.test(line) ? [[index, line.slice(3).replace(/^node_modules\//, '')]] : []));
const moduleAt = (line) => {
  let found = 'bench.js';
  for (const [start, name] of moduleStarts) if (start <= line) found = name;
  return found;
};
try {
  const { page } = await openPage(browser, server.url);
  await page.evaluate((args) => window.bench.mountElement(args), { relay: relay.url, sandbox: 'bench-page-profile', ...TERMINAL_PX });
  const elementFlood = async () => {
    const ms = await page.evaluate(([c, marker]) => window.bench.run(c, marker), [workload.command, MARKER]);
    await page.evaluate(() => window.bench.waitPrompt());
    return ms;
  };
  // `--element-style 'css'`: a flood `styled`, the element with this added to its inline style (taken off after), to
  // see what a style costs the compositor beside the element as it is.
  const styled = async () => {
    const style = await page.evaluate((css) => {
      const element = document.querySelector('sandbox-terminal');
      const before = element.style.cssText;
      element.style.cssText += css;
      return before;
    }, values['element-style']);
    try {
      return await elementFlood();
    } finally {
      await page.evaluate((css) => (document.querySelector('sandbox-terminal').style.cssText = css), style);
    }
  };
  const floods = {
    element: elementFlood,
    ...(values['element-style'] ? { styled } : {}),
    f: async () => (await page.evaluate((args) => window.bench.socketLimit(args), { url: references.shellUrl, start: { command: workload.command } })).ms,
    e: async () => (await page.evaluate((args) => window.bench.socketLimit(args), { url: references.memoryUrl, start: { workload: values.workload } })).ms,
  };
  for (const name of Object.keys(floods)) if (!values.only.split(',').includes(name)) delete floods[name];
  for (const flood of Object.values(floods)) await flood(); // warm-up
  {
    const before = chromiumCpu();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = chromiumCpu();
    console.log(`idle 3 s, CPU ms: ${Object.entries(after).map(([type, ns]) => `${type} ${((ns - (before[type] ?? 0)) / 1e6).toFixed(1)}`).join(', ')}`);
  }
  await page.send('Profiler.enable');
  await page.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await page.send('Performance.getMetrics')).metrics.map(({ name, value }) => [name, value]));
  await page.send('Profiler.setSamplingInterval', { interval: 200 });
  for (let run = 0; run < Number(values.runs); run++) {
    for (const [name, flood] of Object.entries(floods)) {
      await page.send('Profiler.start');
      const before = chromiumCpu();
      const metricsBefore = await metrics();
      const ms = await flood();
      const metricsAfter = await metrics();
      const after = chromiumCpu();
      const { profile } = await page.send('Profiler.stop');
      writeFileSync(join(dir, `page-${name}-${run}.cpuprofile`), JSON.stringify(profile));
      const entry = (totals[name] ??= { ms: [], cpu: {}, self: {}, metrics: {} });
      for (const key of ['LayoutCount', 'RecalcStyleCount', 'LayoutDuration', 'RecalcStyleDuration', 'ScriptDuration', 'TaskDuration']) (entry.metrics[key] ??= []).push((metricsAfter[key] - metricsBefore[key]) * (key.endsWith('Duration') ? 1000 : 1) / mib);
      entry.ms.push(ms);
      for (const [type, ns] of Object.entries(after)) (entry.cpu[type] ??= []).push((ns - (before[type] ?? 0)) / 1e6 / mib);
      for (const [key, us] of selfByOrigin(profile)) entry.self[key] = (entry.self[key] ?? 0) + us / 1000 / mib;
    }
  }
} finally {
  await browser.close();
  await server.close();
  await references.close();
  await relay.close();
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const runs = Number(values.runs);
console.log(`${values.workload}: ${runs} runs each; CPU ms per MiB (median), MB/s`);
for (const [name, entry] of Object.entries(totals)) {
  const cpu = Object.entries(entry.cpu).map(([type, list]) => `${type} ${median(list).toFixed(2)}`).join(', ');
  console.log(`${name.padEnd(8)} ${(workload.outputBytes / 1e6 / (median(entry.ms) / 1000)).toFixed(1)} MB/s; ${cpu}`);
  console.log(`${''.padEnd(8)} per MiB: ${Object.entries(entry.metrics).map(([key, list]) => `${key} ${median(list).toFixed(2)}`).join(', ')}`);
}
console.log('\nrenderer main thread, self time per MiB (mean over runs):');
const keys = [...new Set(Object.values(totals).flatMap((entry) => Object.keys(entry.self)))];
const rows = keys.map((key) => [key, ...Object.keys(totals).map((name) => (totals[name].self[key] ?? 0) / runs)]).sort((a, b) => b[1] - a[1]);
console.log(`${''.padEnd(60)} ${Object.keys(totals).map((n) => n.padStart(8)).join(' ')}`);
for (const [key, ...cells] of rows.slice(0, 45)) console.log(`${key.slice(0, 60).padEnd(60)} ${cells.map((v) => v.toFixed(2).padStart(8)).join(' ')}`);

/** Self µs per function, named with its origin (a package or the page's own code). */
function selfByOrigin(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    const where = url.endsWith('/bench.js') ? moduleAt(lineNumber) : url.replace(/^.*\//, '');
    const key = url ? `${functionName || '(anon)'} ${where}${moduleStarts.length ? '' : `:${lineNumber + 1}:${columnNumber + 1}`}` : functionName;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  return self;
}
