// `npm run bench:profile-relay`: a CPU profile of the relay while it delivers a flood to one viewer (a Node client
// that acks each frame, as in the bench's reference (d)), to see where the relay's own CPU per MiB goes.
//   npm run bench:profile-relay -- --workload long|short --dir DIR
// Writes DIR/*.cpuprofile (open in Chrome DevTools) and prints the top functions by self time.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSocketReader } from './lib/socket-reader.mjs';
import { startRelay } from './lib/relay-process.mjs';

const COMMANDS = {
  long: { command: "yes 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' | head -c 52428800; echo PROFILE-END", marker: 'PROFILE-END' },
  short: { command: 'seq 1 3000000; echo PROFILE-END', marker: 'PROFILE-END' },
};
const { values } = parseArgs({ options: { workload: { type: 'string', default: 'long' }, dir: { type: 'string', default: 'bench-profiles' }, top: { type: 'string', default: '25' } } });
const workload = COMMANDS[values.workload];
if (!workload) throw new Error(`--workload is one of ${Object.keys(COMMANDS).join(', ')}`);
const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });

// The flood's window in CLOCK_MONOTONIC µs, the clock V8's profile timestamps use (in every process): only the samples
// inside it are counted, not the relay's start-up.
let floodStartUs = 0;
let floodEndUs = 0;
const relay = await startRelay({ execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200'] });
try {
  const reader = await openSocketReader(relay.url, `profile-${process.pid}`);
  // The marker is typed too: wait for its second appearance (the echo of the command line comes first).
  floodStartUs = Number(process.hrtime.bigint() / 1000n);
  const ms = await reader.run(workload.command.replace(/PROFILE-END/, "PROFILE-'END'"), workload.marker);
  floodEndUs = Number(process.hrtime.bigint() / 1000n);
  console.error(`profile: ${values.workload} delivered in ${ms.toFixed(0)} ms`);
  reader.close();
} finally {
  await relay.close();
}

// CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the relay's main thread (1 is tsx's loader).
const file = readdirSync(dir).filter((name) => /\.0\.\d+\.cpuprofile$/.test(name)).map((name) => join(dir, name)).sort().at(-1);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const deltas = profile.timeDeltas;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += deltas[i] ?? 0;
  if (at < floodStartUs || at > floodEndUs) continue;
  const node = byId.get(profile.samples[i]);
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|server|packages)\//, '$1/')}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (deltas[i + 1] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const busy = total - (self.get('(idle) :0') ?? 0);
console.log(`${file}\nduring the flood: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms of it busy; % of busy`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  if (key === '(idle) :0') continue;
  console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}`);
}
