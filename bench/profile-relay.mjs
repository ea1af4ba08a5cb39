// `npm run bench:profile-relay`: a CPU profile of the relay while it delivers a flood to one viewer, to see where the
// relay's own CPU per MiB goes. The viewer is a Node client that acks each frame (the bench's reference (d)), or with
// `--viewer browser` the element in headless Chromium (the bench's goal 2 measures that one); `--server reference`
// profiles reference (f)'s server instead (browser viewer only), to put the two side by side.
// `--workload exec` profiles sequential session execs instead (goal 4).
//   npm run bench:profile-relay -- --workload long|short|exec --viewer node|browser --server relay|reference --dir DIR
// Writes DIR/*.cpuprofile (open in Chrome DevTools) and prints the top functions by self time. V8 flags for the relay
// go in RELAY_EXTRA_ARGS (`RELAY_EXTRA_ARGS=--trace-gc npm run bench:profile-relay -- …` counts its collections).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getSandbox } from '@sandbox-terminal/client';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { startPageServer } from './lib/page-server.mjs';
import { startReferences } from './lib/reference-host.mjs';
import { openSocketReader } from './lib/socket-reader.mjs';
import { startRelay } from './lib/relay-process.mjs';
import { MARKER, THROUGHPUT_WORKLOADS } from './lib/workload-data.mjs';

/** Sequential `exec('true', { session })` calls through the client SDK, as goal 4 measures them (not a flood). */
const EXEC_COUNT = 2000;
/** V8 is still optimizing the exec path for the first few thousand execs (see bench/workloads/exec.mjs). */
const EXEC_WARM_UP = 3000;
/** Floods in a row with a browser viewer (one full-size warm-up first, not counted): a browser run is noisier. */
const BROWSER_RUNS = 3;
const TERMINAL_PX = { width: 900, height: 500 };
const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'long' },
    viewer: { type: 'string', default: 'node' },
    server: { type: 'string', default: 'relay' },
    dir: { type: 'string', default: 'bench-profiles' },
    top: { type: 'string', default: '25' },
  },
});
// The floods are the bench's own (bench/lib/workload-data.mjs), so a profile shows the workload the table measures.
const workload = THROUGHPUT_WORKLOADS[values.workload];
if (!workload && values.workload !== 'exec') throw new Error(`--workload is exec or one of ${Object.keys(THROUGHPUT_WORKLOADS).join(', ')}`);
if (!['node', 'browser'].includes(values.viewer)) throw new Error('--viewer is node or browser');
if (!['relay', 'reference'].includes(values.server)) throw new Error('--server is relay or reference');
if (values.server === 'reference' && values.viewer !== 'browser') throw new Error('--server reference needs --viewer browser');
const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });
const profileArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200'];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

// The flood's window in CLOCK_MONOTONIC µs, the clock V8's profile timestamps use (in every process): only the samples
// inside it are counted, not the relay's start-up.
let floodStartUs = 0;
let floodEndUs = 0;
let profiledPid;
const relay = await startRelay({ execArgv: values.server === 'relay' ? profileArgs : [] });
try {
  if (values.workload === 'exec') {
    profiledPid = relay.pid;
    const sandbox = getSandbox(relay.url, 'profile-exec');
    const session = await sandbox.createSession();
    for (let i = 0; i < EXEC_WARM_UP; i++) await sandbox.exec('true', { session });
    floodStartUs = nowUs();
    for (let i = 0; i < EXEC_COUNT; i++) await sandbox.exec('true', { session });
    floodEndUs = nowUs();
    console.error(`profile: ${EXEC_COUNT} execs, ${((floodEndUs - floodStartUs) / 1000 / EXEC_COUNT).toFixed(3)} ms each`);
  } else if (values.viewer === 'node') {
    profiledPid = relay.pid;
    const reader = await openSocketReader(relay.url, `profile-${process.pid}`);
    // The marker is computed by the shell, so the echo of the command line does not contain it.
    floodStartUs = nowUs();
    const ms = await reader.run(workload.command, MARKER);
    floodEndUs = nowUs();
    console.error(`profile: ${values.workload} delivered in ${ms.toFixed(0)} ms`);
    reader.close();
  } else {
    await browserFloods();
  }
} finally {
  await relay.close();
}

/** The bench's own workload (bench/lib/workload-data.mjs) into the element, or into a bare xterm from reference (f). */
async function browserFloods() {
  const references = await startReferences({ execArgv: values.server === 'reference' ? profileArgs : [] });
  const server = await startPageServer();
  const { browser } = await launchBrowser();
  try {
    const { page } = await openPage(browser, server.url);
    await page.evaluate((args) => window.bench.mountElement(args), { relay: relay.url, sandbox: 'bench-profile', ...TERMINAL_PX });
    const flood = async (command) => {
      if (values.server === 'reference') return (await page.evaluate((args) => window.bench.socketLimit(args), { url: references.shellUrl, start: { command } })).ms;
      const ms = await page.evaluate(([c, marker]) => window.bench.run(c, marker), [command, MARKER]);
      await page.evaluate(() => window.bench.waitPrompt());
      return ms;
    };
    await flood(workload.command); // full size: see the warm-up in bench/workloads/throughput.mjs
    profiledPid = values.server === 'relay' ? relay.pid : references.pid;
    floodStartUs = nowUs();
    for (let i = 0; i < BROWSER_RUNS; i++) console.error(`profile: ${values.workload} into the browser in ${(await flood(workload.command)).toFixed(0)} ms`);
    floodEndUs = nowUs();
  } finally {
    await browser.close();
    await server.close();
    await references.close();
  }
}

// CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the relay's main thread (1 is tsx's loader).
const file = readdirSync(dir).filter((name) => new RegExp(`\\.${profiledPid}\\.0\\.\\d+\\.cpuprofile$`).test(name)).map((name) => join(dir, name)).at(-1);
if (!file) throw new Error(`no profile of process ${profiledPid} in ${dir}`);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const nameOf = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|server|packages)\//, '$1/')}:${lineNumber + 1}`;
};
// Self time per function, and inclusive time (the function anywhere on the stack) for the relay's own code: V8
// inlines small functions into their callers, so self time alone hides where a path's cost starts.
const self = new Map();
const inclusive = new Map();
const deltas = profile.timeDeltas;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += deltas[i] ?? 0;
  if (at < floodStartUs || at > floodEndUs) continue;
  const us = deltas[i + 1] ?? 0;
  const key = nameOf(byId.get(profile.samples[i]));
  self.set(key, (self.get(key) ?? 0) + us);
  const onStack = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parentOf.get(id)) onStack.add(nameOf(byId.get(id)));
  for (const name of onStack) if (/ (server|packages)\//.test(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const busy = total - (self.get('(idle) :0') ?? 0);
const line = (key, us) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}`;
console.log(`${file}\nduring the flood: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms of it busy; % of busy`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) if (key !== '(idle) :0') console.log(line(key, us));
console.log('\ninclusive, the relay\'s own code:');
for (const [key, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(line(key, us));
