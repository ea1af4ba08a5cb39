// Workload 1: 50 MiB of text from the shell until xterm's write callback has seen all of it, for our element, and
// the references of the same run: the same bytes written into a bare xterm in the same page (the browser's limit),
// the PTY's raw output read in Node (the relay's limit), the same bytes over a WebSocket from memory (e) and from a
// shell on a PTY (f) into a bare xterm, and wetty serving the same command to the same browser.
import pty from 'node-pty';
import { cpuDelta, cpuSnapshot } from '../lib/cpu-time.mjs';
import { openSocketReader } from '../lib/socket-reader.mjs';
import { repeatedLines, startPtySocketSource, startSocketSource } from '../lib/socket-source.mjs';
import { summarize } from '../lib/stats.mjs';

export const TOTAL_BYTES = 50 * 1024 * 1024;
/** 79 characters + newline: 80-byte lines, no wrapping at the bench's width. */
export const LINE = 'sandbox-terminal bench: the quick brown fox jumps over the lazy dog 0123456789.';
const MARKER = 'BENCH-42-DONE';
/** The marker is computed by the shell so the echo of the typed command does not contain it. */
export const COMMAND = `yes '${LINE}' | head -c ${TOTAL_BYTES}; echo BENCH-$((40+2))-DONE`;
/** The warm-up: a tenth of the output, same lines. */
const WARM_UP_COMMAND = COMMAND.replace(String(TOTAL_BYTES), String(TOTAL_BYTES / 10));
/** Chunks of the bare-xterm reference, and how much it keeps queued in xterm (it must not hit xterm's 50 MB discard). */
const RAW_CHUNK_BYTES = 64 * 1024;
const RAW_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);

/** The PTY's raw rate: node-pty in this process, bytes not decoded, nothing else done with them. */
function ptyRaw(cols, rows) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let bytes = 0;
    const shell = pty.spawn('/bin/bash', ['-c', COMMAND], { cols, rows, encoding: null, env: { ...process.env, TERM: 'xterm-256color' } });
    shell.onData((data) => (bytes += data.length));
    shell.onExit(({ exitCode }) => (exitCode === 0 ? resolve({ ms: performance.now() - start, bytes }) : reject(new Error(`exit ${exitCode}`))));
  });
}

/** @param {{ page: import('playwright-core').Page, wettyPage?: import('playwright-core').Page, repetitions: number }} context */
/** @param {{ cpuRoots: Record<string, number> }} context  the relay's and the browser's pids, for the CPU split */
export async function throughput({ page, wettyPage, relayUrl, cpuRoots, repetitions }) {
  const cpu = [];
  const runs = { element: [], xterm: [], websocket: [], ptySocket: [], pty: [], socket: [], wetty: [] };
  const socket = await openSocketReader(relayUrl, 'bench-socket');
  const sourceBytes = repeatedLines(LINE, TOTAL_BYTES);
  const source = await startSocketSource(sourceBytes);
  const ptySource = await startPtySocketSource(COMMAND);
  const socketLimit = (url) => page.evaluate((args) => window.bench.socketLimit(args), { url });
  await socketLimit(source.url); // warm-ups
  await socketLimit(ptySource.url);
  await socket.run(WARM_UP_COMMAND, MARKER);
  const { cols, rows } = await page.evaluate(() => window.bench.size());
  // One unmeasured run each, so xterm's parser and the shells are warm (the first write into xterm is ~6x slower).
  const run = (target, command) => target.evaluate(([c, marker]) => window.bench.run(c, marker), [command, MARKER]);
  await run(page, WARM_UP_COMMAND);
  await page.evaluate(() => window.bench.waitPrompt());
  if (wettyPage) {
    await run(wettyPage, WARM_UP_COMMAND);
    await wettyPage.evaluate(() => window.bench.waitPrompt());
  }
  const progress = (what) => process.env.BENCH_VERBOSE && console.error(`throughput: ${what}`);
  for (let i = 0; i < repetitions; i++) {
    progress(`run ${i + 1}: element`);
    const before = cpuSnapshot(cpuRoots);
    const elementMs = await run(page, COMMAND);
    cpu.push({ ...cpuDelta(before, cpuSnapshot(cpuRoots)), ms: elementMs });
    runs.element.push(mbps(TOTAL_BYTES, elementMs));
    await page.evaluate(() => window.bench.waitPrompt());
    const raw = await page.evaluate(
      (args) => window.bench.xtermLimit(args),
      { line: LINE, totalBytes: TOTAL_BYTES, chunkBytes: RAW_CHUNK_BYTES, maxInFlightBytes: RAW_IN_FLIGHT_BYTES },
    );
    progress('bare xterm');
    runs.xterm.push(mbps(TOTAL_BYTES, raw.ms));
    progress('websocket');
    runs.websocket.push(mbps(sourceBytes.length, (await socketLimit(source.url)).ms));
    progress('pty websocket');
    // the shell's bytes, as for the element (the PTY adds a CR to each line on the way)
    runs.ptySocket.push(mbps(TOTAL_BYTES, (await socketLimit(ptySource.url)).ms));
    progress('pty');
    const rawPty = await ptyRaw(cols, rows);
    runs.pty.push(mbps(TOTAL_BYTES, rawPty.ms));
    progress('socket');
    runs.socket.push(mbps(TOTAL_BYTES, await socket.run(COMMAND, MARKER)));
    if (wettyPage) {
      progress('wetty');
      runs.wetty.push(mbps(TOTAL_BYTES, await run(wettyPage, COMMAND)));
      await wettyPage.evaluate(() => window.bench.waitPrompt());
    }
  }
  socket.close();
  await source.close();
  await ptySource.close();
  const summary = Object.fromEntries(Object.entries(runs).filter(([, values]) => values.length).map(([key, values]) => [key, summarize(values)]));
  // the CPU split of the median element run
  const medianRun = cpu.sort((a, b) => a.ms - b.ms)[Math.floor(cpu.length / 2)];
  return { ...summary, elementCpu: medianRun };
}
