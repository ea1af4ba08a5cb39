// The load test of SECURITY.md: 100 terminals streaming output and 20 exec loops for 60 s against one relay on
// loopback; zero errors and nothing lost, or it exits 1. `npm run load` (add `-- --write` to record the result in
// BENCHMARKS.md; `--terminals=N --exec-loops=N --seconds=N` to scale it). `-- --relays=3` runs the same load against
// three relays sharing a redis-server and the data dir, behind Debian's HAProxy (`--balance=hash`, the default,
// hashes the sandbox path segment; `--balance=roundrobin` makes the relays forward most calls to one another).
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { runLoad, type LoadReport } from './load/run-load.ts';

const { values } = parseArgs({
  options: {
    terminals: { type: 'string', default: '100' },
    'exec-loops': { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    relays: { type: 'string', default: '1' },
    balance: { type: 'string', default: 'hash' },
    write: { type: 'boolean', default: false },
  },
});

const MIB = 1024 * 1024;
const BENCHMARKS = new URL('../BENCHMARKS.md', import.meta.url);
const relays = Number(values.relays);
const balance = values.balance === 'roundrobin' ? 'roundrobin' : 'hash';
if (values.balance !== balance) throw new Error(`--balance must be hash or roundrobin, not ${values.balance}`);
const SECTION = relays > 1 ? `load-test-${relays}-relays-${balance}` : 'load-test';
const BEGIN = `<!-- ${SECTION}:begin -->`;
const END = `<!-- ${SECTION}:end -->`;

const report = await runLoad({
  terminals: Number(values.terminals),
  execLoops: Number(values['exec-loops']),
  durationMs: Number(values.seconds) * 1000,
  relays,
  balance,
  onSample: ({ elapsedMs, relayRssBytes }) => process.stderr.write(`\r${(elapsedMs / 1000).toFixed(0)} s, relay RSS ${(relayRssBytes / MIB).toFixed(0)} MiB   `),
});
process.stderr.write('\n');
const table = renderTable(report);
console.log(table);
if (report.errors.length) console.log(`\n${report.errors.length} errors, the first ones:\n${report.errors.slice(0, 20).join('\n')}`);
if (values.write) await recordInBenchmarks(table);
process.exitCode = report.errors.length ? 1 : 0;

function renderTable(result: LoadReport): string {
  const { options } = result;
  const seconds = result.durationMs / 1000;
  const cluster = options.relays > 1;
  const command = cluster ? `npm run load -- --relays=${options.relays} --balance=${options.balance}` : 'npm run load';
  const relayWord = cluster ? `relays (${options.relays} processes, summed)` : 'relay';
  return [
    `Command: \`${command}\` (${options.terminals} terminals, ${options.execLoops} exec loops, ${(options.durationMs / 1000).toFixed(0)} s; ` +
      `${options.sessionsPerSandbox} sessions per sandbox; ${cluster ? `${options.relays} relays sharing redis-server behind HAProxy (${options.balance}); ` : ''}${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| measure | value |',
    '|---|---|',
    `| errors (relay errors, gaps, torn lines, substituted screens, wrong exec output, failed calls) | ${result.errors.length} |`,
    `| terminal output received | ${(result.terminalBytes / MIB).toFixed(1)} MiB, ${result.terminalLines.toLocaleString('en')} numbered lines (${(result.terminalBytes / MIB / seconds).toFixed(2)} MiB/s) |`,
    `| session execs | ${result.execs.toLocaleString('en')} (${(result.execs / seconds).toFixed(0)}/s), p50 ${result.execLatencyMs.p50.toFixed(1)} ms, p99 ${result.execLatencyMs.p99.toFixed(1)} ms, max ${result.execLatencyMs.max.toFixed(0)} ms |`,
    `| ${relayWord} RSS | ${(result.relayRss.startBytes / MIB).toFixed(0)} MiB at start, peak ${(result.relayRss.peakBytes / MIB).toFixed(0)} MiB, ${(result.relayRss.endBytes / MIB).toFixed(0)} MiB at the end |`,
    `| ${relayWord} + sandboxes RSS (summed) | peak ${(result.treeRssPeakBytes / MIB).toFixed(0)} MiB |`,
    `| ${relayWord} CPU | ${result.relayCpuSeconds.toFixed(1)} s over the run (${((result.relayCpuSeconds / seconds) * 100).toFixed(0)} % of a core) |`,
    ...(cluster ? [`| calls forwarded between relays | ${result.forwarded.http.toLocaleString('en')} HTTP, ${result.forwarded.websocket} terminal WebSockets |`] : []),
  ].join('\n');
}

async function recordInBenchmarks(table: string): Promise<void> {
  const text = await readFile(BENCHMARKS, 'utf8');
  const section = `${BEGIN}\n${table}\n${END}`;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const heading = relays > 1 ? `## Load: ${relays} relays behind HAProxy (${balance})` : '## Load';
  const updated = begin !== -1 && end > begin ? text.slice(0, begin) + section + text.slice(end + END.length) : `${text.trimEnd()}\n\n${heading}\n\n${section}\n`;
  await writeFile(BENCHMARKS, updated);
}
