// `npm run bench:forwarding`: what forwarding costs. Two relays share a redis-server and a data dir; relay A runs
// the sandbox; the same calls go to A (direct) and to B (forwarded to A), interleaved, several rounds. Prints a
// table and, unless `-- --no-write`, puts it in BENCHMARKS.md between the forwarding markers.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getSandbox } from '@sandbox-terminal/client';
import { TERMINAL_SUBPROTOCOL, parseServerControl } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';
import { freePort, startRedisServer, startRelayProcess, stopProcess } from '../scripts/load/load-target.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, 'no-write': { type: 'boolean', default: false } } });
const ROUNDS = Number(values.rounds);
const EXECS_PER_ROUND = 300;
const WARM_UP_EXECS = 30;
const STREAM_BYTES = 50 * 1024 * 1024;
/** Acknowledge like a viewer that keeps up (the relay's flow window is 2 MiB). */
const ACK_EVERY_BYTES = 256 * 1024;
const MIB = 1024 * 1024;

const dataDir = await mkdtemp(join(tmpdir(), 'bench-forwarding-'));
const redis = await startRedisServer();
const relayA = await startRelayProcess([dataDir, redis.url, String(await freePort())]);
const relayB = await startRelayProcess([dataDir, redis.url, String(await freePort())]);
const loadBefore = loadavg().map((value) => value.toFixed(2)).join(' ');
try {
  const direct = getSandbox(relayA.url, 'bench-forwarding');
  const forwarded = getSandbox(relayB.url, 'bench-forwarding');
  const session = await direct.createSession();
  for (let i = 0; i < WARM_UP_EXECS; i++) await Promise.all([direct.exec('true', { session }), forwarded.exec('true', { session })]);
  const execTimes = { direct: [] as number[], forwarded: [] as number[] };
  const throughput = { direct: [] as number[], forwarded: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, sandbox] of [['direct', direct], ['forwarded', forwarded]] as const) {
      for (let i = 0; i < EXECS_PER_ROUND; i++) {
        const start = performance.now();
        await sandbox.exec('true', { session });
        execTimes[name].push(performance.now() - start);
      }
    }
    for (const [name, sandbox] of [['direct', direct], ['forwarded', forwarded]] as const) {
      const terminalSession = await direct.createSession();
      throughput[name].push(await streamThroughput(sandbox.terminalUrl(terminalSession, { cols: 120, rows: 40 })));
      await direct.deleteSession(terminalSession);
    }
  }
  const table = render(execTimes, throughput);
  console.log(table);
  if (!values['no-write']) await record(table);
} finally {
  await Promise.all([stopProcess(relayA.process), stopProcess(relayB.process)]);
  await stopProcess(redis.process);
  await rm(dataDir, { recursive: true, force: true });
}

/** MB/s of `STREAM_BYTES` of a shell's output to a viewer that acknowledges as it reads and renders nothing. */
function streamThroughput(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [TERMINAL_SUBPROTOCOL]);
    let position = 0;
    let acked = 0;
    let received = 0;
    let started = 0;
    let tail = '';
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        const message = parseServerControl(data.toString());
        if (message?.type === 'ready') {
          position = message.position;
          // The count is done by the shell, so the command line itself does not contain the end marker.
          ws.send(Buffer.from(`stty -echo; head -c ${STREAM_BYTES} /dev/zero | tr '\\0' 'x' | fold -w 99; echo; echo done-$((40+2))\r`));
        }
        if (message?.type === 'error') reject(new Error(message.message));
        return;
      }
      if (!started && data.includes('x'.charCodeAt(0))) started = performance.now();
      position += data.length;
      received += data.length;
      tail = (tail + data.toString('latin1')).slice(-64);
      if (position - acked >= ACK_EVERY_BYTES) {
        acked = position;
        ws.send(JSON.stringify({ type: 'ack', position }));
      }
      if (tail.includes('done-42')) {
        const seconds = (performance.now() - started) / 1000;
        ws.close();
        resolve(received / 1e6 / seconds);
      }
    });
    ws.once('error', reject);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function render(execTimes: Record<'direct' | 'forwarded', number[]>, throughput: Record<'direct' | 'forwarded', number[]>): string {
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  const mbs = (values: number[]) => `${median(values).toFixed(1)} [${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}] MB/s`;
  const p50 = { direct: percentile(execTimes.direct, 0.5), forwarded: percentile(execTimes.forwarded, 0.5) };
  return [
    `Command: \`npm run bench:forwarding\` (${ROUNDS} rounds, interleaved; two relay processes sharing a redis-server and the data dir on loopback; ${cpus().length} cores; load average ${loadBefore} before; ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| measure | direct (client → owner) | forwarded (client → other relay → owner) | forwarding adds |',
    '|---|---|---|---|',
    `| exec('true', { session }), ${ROUNDS * EXECS_PER_ROUND} sequential each | p50 ${ms(p50.direct)}, p99 ${ms(percentile(execTimes.direct, 0.99))} | p50 ${ms(p50.forwarded)}, p99 ${ms(percentile(execTimes.forwarded, 0.99))} | p50 +${ms(p50.forwarded - p50.direct)} |`,
    `| terminal output, ${STREAM_BYTES / MIB} MiB shell → a Node viewer that acks (median [min–max] of ${ROUNDS}) | ${mbs(throughput.direct)} | ${mbs(throughput.forwarded)} | ${throughputChange(median(throughput.direct), median(throughput.forwarded))} |`,
  ].join('\n');
}

function throughputChange(direct: number, forwarded: number): string {
  const change = (forwarded / direct - 1) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(0)} % (within the spread of the runs when the ranges overlap)`;
}

async function record(table: string): Promise<void> {
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const text = await readFile(file, 'utf8');
  const [begin, end] = ['<!-- forwarding:begin -->', '<!-- forwarding:end -->'];
  const section = `${begin}\n${table}\n${end}`;
  const at = text.indexOf(begin);
  const to = text.indexOf(end);
  await writeFile(file, at !== -1 && to > at ? text.slice(0, at) + section + text.slice(to + end.length) : `${text.trimEnd()}\n\n## Forwarding between relays (issue 20)\n\n${section}\n`);
}
