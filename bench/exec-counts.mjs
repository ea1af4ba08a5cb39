// `npm run bench:exec-counts`: what one sequential session exec costs the relay and the session's bash, counted by
// `perf stat` (system calls, context switches, CPU time): counts hold still where this machine's latencies move ±40%
// between rounds, so two commits compare by running this at each. Needs `perf` (Debian's linux-perf).
//   npm run bench:exec-counts -- --execs 2000 --rounds 3
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getSandbox } from '@sandbox-terminal/client';
import { startRelay } from './lib/relay-process.mjs';

/** As in bench/workloads/exec.mjs: V8 is still optimizing the exec path for the first few thousand calls. */
const WARM_UP_EXECS = 3000;
/** perf attaches asynchronously: the counted window starts after this, with no exec in flight. */
const PERF_ATTACH_MS = 1000;
const EVENTS = ['syscalls:sys_enter_epoll_pwait', 'syscalls:sys_enter_read', 'syscalls:sys_enter_write', 'syscalls:sys_enter_openat', 'context-switches', 'task-clock'];

const { values } = parseArgs({ options: { execs: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } } });
const execs = Number(values.execs);
const rounds = Number(values.rounds);

function perfStat(pid, output) {
  return spawn('perf', ['stat', '-x,', '-e', EVENTS.join(','), '-p', String(pid), '-o', output], { stdio: 'ignore' });
}

/** `perf stat -x,` lines: value, unit, event. Per exec; task-clock is in ms already. */
function perExec(file) {
  const counts = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [value, , event] = line.split(',');
    counts[event.replace('syscalls:sys_enter_', '')] = Number(value) / execs;
  }
  return counts;
}

try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('bench:exec-counts needs perf (apt-get install linux-perf)');
  process.exit(2);
}
const relay = await startRelay();
const dir = join(tmpdir(), `exec-counts-${process.pid}`);
try {
  const sandbox = getSandbox(relay.url, 'exec-counts');
  const session = await sandbox.createSession();
  for (let i = 0; i < WARM_UP_EXECS; i++) await sandbox.exec('true', { session });
  // The session's bash: the youngest bash under the sandbox's init (sandbox-enter), the only shell this relay runs.
  const enter = execFileSync('pgrep', ['-f', '-d,', 'sandbox-enter'], { encoding: 'utf8' }).trim();
  const bash = execFileSync('pgrep', ['-n', '-x', 'bash', '-P', enter], { encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  console.log(`per sequential exec('true', { session }), ${execs} execs a round after ${WARM_UP_EXECS} warm-up (task-clock: CPU ms)`);
  for (let round = 0; round < rounds; round++) {
    const files = { relay: join(dir, `relay-${round}`), bash: join(dir, `bash-${round}`) };
    const watchers = [perfStat(relay.pid, files.relay), perfStat(bash, files.bash)];
    await new Promise((resolve) => setTimeout(resolve, PERF_ATTACH_MS));
    for (let i = 0; i < execs; i++) await sandbox.exec('true', { session });
    await Promise.all(watchers.map((watcher) => new Promise((resolve) => {
      watcher.once('exit', resolve);
      watcher.kill('SIGINT');
    })));
    for (const [name, file] of Object.entries(files)) {
      const counts = perExec(file);
      console.log(`round ${round + 1} ${name.padEnd(5)} ${Object.entries(counts).map(([event, value]) => `${event} ${value.toFixed(2)}`).join(', ')}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await relay.close();
}
