// Starts bench/lib/relay-host.ts as a child process and talks to it (see that file).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childCalls, forkGroup, killGroup } from './processes.mjs';

const HOST = fileURLToPath(new URL('./relay-host.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** V8 and Node flags for every relay the bench starts, from the environment (`RELAY_EXTRA_ARGS=--trace-gc`). */
const EXTRA_ARGS = (process.env.RELAY_EXTRA_ARGS ?? '').split(' ').filter(Boolean);

/** @param {{ options?: object, execArgv?: string[] }} [settings] */
export async function startRelay({ options = {}, execArgv = [] } = {}) {
  const child = forkGroup(HOST, [JSON.stringify(options)], {
    cwd: ROOT,
    execArgv: ['--conditions=@sandbox-terminal/source', '--import', 'tsx', '--expose-gc', ...execArgv, ...EXTRA_ARGS],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not start in time')), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    child.on('message', (message) => {
      if (message.ready) {
        clearTimeout(timer);
        resolve(message.ready);
      }
    });
  });
  const calls = childCalls(child);
  const call = (command, sandbox) => calls(command, { sandbox });
  return {
    url,
    pid: child.pid,
    dropConnections: (sandbox) => call('drop-connections', sandbox),
    sleepSandbox: (sandbox) => call('sleep-sandbox', sandbox),
    gc: () => call('gc'),
    /** Per key of an echo workload: ms from its input frame to its echo frame inside the relay (bench/lib/key-latency.ts). */
    keyLatencies: () => call('key-latencies'),
    rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024,
    async close() {
      // The relay exits by itself after closing (and writes its --cpu-prof then); the group kill is for what remains.
      const exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      call('close').catch(() => undefined);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await killGroup(child);
    },
  };
}
