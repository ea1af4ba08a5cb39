// Workload 1 (and the CPU of goal 2): each output workload (bench/lib/workload-data.mjs: 50 MiB of long lines, and
// `seq 1 3000000`) from the shell until xterm's write callback has seen all of it, for our element, and interleaved
// with it the references of the same run: (f) the same command on a minimal PTY server into a bare xterm, (e) the same
// bytes over a WebSocket from memory, (a) the same bytes written into a bare xterm in the same page; for long lines
// also (b) the PTY's raw output read in Node, (d) the relay to a Node client, and (c) wetty. Around the element's and
// the references' runs, the CPU time of the relay process alone, of the reference servers' process alone, and of
// Chromium (all its processes) is read from /proc, per MiB the terminal received.
import pty from 'node-pty';
import { cpuDelta, cpuSnapshot } from '../lib/cpu-time.mjs';
import { openSocketReader } from '../lib/socket-reader.mjs';
import { summarize } from '../lib/stats.mjs';
import { MARKER, THROUGHPUT_WORKLOADS } from '../lib/workload-data.mjs';

/** Chunks of the bare-xterm reference, and how much it keeps queued in xterm (it must not hit xterm's 50 MB discard). */
const RAW_CHUNK_BYTES = 64 * 1024;
const RAW_IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/** wetty (3 MB/s) takes ~17 s a run; it is no goal of issue 21, so it runs this many times at most. */
const WETTY_RUNS = 3;
const MIB = 1024 * 1024;

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);

/** The PTY's raw rate: node-pty in this process, bytes not decoded, nothing else done with them. */
function ptyRaw(command, cols, rows) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let bytes = 0;
    const shell = pty.spawn('/bin/bash', ['-c', command], { cols, rows, encoding: null, env: { ...process.env, TERM: 'xterm-256color' } });
    shell.onData((data) => (bytes += data.length));
    shell.onExit(({ exitCode }) => (exitCode === 0 ? resolve({ ms: performance.now() - start, bytes }) : reject(new Error(`exit ${exitCode}`))));
  });
}

/** Runs `measure` between two CPU snapshots; `{ ms, cpu }` with `cpu` in ms per group. */
async function withCpu(groups, measure) {
  const before = cpuSnapshot(groups);
  const ms = await measure();
  return { ms, cpu: cpuDelta(before, cpuSnapshot(groups)) };
}

/**
 * @param {{ page: object, wettyPage?: object, relay: { url: string, pid: number }, references: { memoryUrl: string, shellUrl: string, pid: number }, repetitions: number }} context
 */
export async function throughput({ page, wettyPage, relay, references, repetitions }) {
  const groups = {
    relay: { pid: relay.pid },
    relayTree: { root: relay.pid },
    referenceTree: { root: references.pid },
    reference: { pid: references.pid },
    chromium: { root: process.pid, comm: 'chrom' },
  };
  const socket = await openSocketReader(relay.url, 'bench-socket');
  const { cols, rows } = await page.evaluate(() => window.bench.size());
  const run = (target, command) => target.evaluate(([c, marker]) => window.bench.run(c, marker), [command, MARKER]);
  const socketLimit = (url, start) => page.evaluate((args) => window.bench.socketLimit(args), { url, start });
  const progress = (what) => process.env.BENCH_VERBOSE && console.error(`throughput: ${what}`);
  const result = {};
  for (const [name, workload] of Object.entries(THROUGHPUT_WORKLOADS)) {
    // One unmeasured run each, so xterm's parser and the shells are warm (the first write into xterm is ~6x slower).
    // Full size for every server: the first full flood after a start pays once for compiling the flood's path and for
    // the first mark-compacts of a young heap (the relay's first run cost up to twice its later ones, mostly on V8's
    // helper threads), and the goals are about what each further MiB costs. wetty's is a tenth (it runs at ~5 MB/s).
    await socketLimit(references.memoryUrl, { workload: name });
    await socketLimit(references.shellUrl, { command: workload.command });
    await run(page, workload.command);
    await page.evaluate(() => window.bench.waitPrompt());
    if (name === 'long') {
      await socket.run(workload.command, MARKER);
      if (wettyPage) {
        await run(wettyPage, workload.warmUpCommand);
        await wettyPage.evaluate(() => window.bench.waitPrompt());
      }
    }
    const runs = { element: [], ptySocket: [], websocket: [], xterm: [], pty: [], socket: [], wetty: [] };
    for (let i = 0; i < repetitions; i++) {
      progress(`${name} run ${i + 1}: element`);
      runs.element.push(await withCpu(groups, () => run(page, workload.command)));
      await page.evaluate(() => window.bench.waitPrompt());
      progress(`${name} (f)`);
      runs.ptySocket.push(await withCpu(groups, async () => (await socketLimit(references.shellUrl, { command: workload.command })).ms));
      progress(`${name} (e)`);
      runs.websocket.push(await withCpu(groups, async () => (await socketLimit(references.memoryUrl, { workload: name })).ms));
      progress(`${name} (a)`);
      const raw = await page.evaluate((args) => window.bench.xtermLimit(args), { dataUrl: `/data/${name}`, chunkBytes: RAW_CHUNK_BYTES, maxInFlightBytes: RAW_IN_FLIGHT_BYTES });
      runs.xterm.push({ ms: raw.ms });
      if (name !== 'long') continue;
      progress('(b)');
      runs.pty.push({ ms: (await ptyRaw(workload.command, cols, rows)).ms });
      progress('(d)');
      runs.socket.push({ ms: await socket.run(workload.command, MARKER) });
      if (wettyPage && i < WETTY_RUNS) {
        progress('wetty');
        runs.wetty.push({ ms: await run(wettyPage, workload.command) });
        await wettyPage.evaluate(() => window.bench.waitPrompt());
      }
    }
    result[name] = summarizeWorkload(workload, runs);
  }
  socket.close();
  return result;
}

/** Rates (MB/s of the command's output), CPU per MiB the terminal received, and the ratios of each interleaved pair. */
function summarizeWorkload(workload, runs) {
  const mib = (workload.outputBytes + workload.lines) / MIB;
  const rates = Object.fromEntries(Object.entries(runs).filter(([, list]) => list.length).map(([key, list]) => [key, summarize(list.map((r) => mbps(workload.outputBytes, r.ms)))]));
  const perMiB = (list, group) => list.map((r) => r.cpu.groups[group] / mib);
  const pairs = (a, b) => a.map((value, i) => value / b[i]);
  const relayPerMiB = perMiB(runs.element, 'relay');
  const referenceServerPerMiB = perMiB(runs.ptySocket, 'reference');
  const browserPerMiB = perMiB(runs.element, 'chromium');
  const browserWebsocketPerMiB = perMiB(runs.websocket, 'chromium');
  const browserPtySocketPerMiB = perMiB(runs.ptySocket, 'chromium');
  const elementRates = runs.element.map((r) => mbps(workload.outputBytes, r.ms));
  const fRates = runs.ptySocket.map((r) => mbps(workload.outputBytes, r.ms));
  return {
    title: workload.title,
    outputBytes: workload.outputBytes,
    terminalBytes: workload.outputBytes + workload.lines,
    ...rates,
    /** ours / (f), pair by pair. */
    ofPtySocket: summarize(pairs(elementRates, fRates)),
    cpu: {
      relayPerMiB: summarize(relayPerMiB),
      relayTreePerMiB: summarize(perMiB(runs.element, 'relayTree')),
      referenceTreePerMiB: summarize(perMiB(runs.ptySocket, 'referenceTree')),
      referenceServerPerMiB: summarize(referenceServerPerMiB),
      relayOfReference: summarize(pairs(relayPerMiB, referenceServerPerMiB)),
      browserPerMiB: summarize(browserPerMiB),
      browserWebsocketPerMiB: summarize(browserWebsocketPerMiB),
      browserPtySocketPerMiB: summarize(browserPtySocketPerMiB),
      browserOfWebsocket: summarize(pairs(browserPerMiB, browserWebsocketPerMiB)),
      /** Ours against (f)'s page, and (f)'s page against (e): each run with the one next to it. */
      browserOfPtySocket: summarize(pairs(browserPerMiB, browserPtySocketPerMiB)),
      ptySocketOfWebsocket: summarize(pairs(browserPtySocketPerMiB, browserWebsocketPerMiB)),
      machineBusyShare: summarize(runs.element.map((r) => r.cpu.machineBusyShare)),
    },
  };
}
