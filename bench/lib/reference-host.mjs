// References (e) and (f) in a process of their own (bench/lib/socket-source.mjs), so that the CPU their servers
// spend per MiB is read from /proc apart from the bench's orchestration. Started by startReferences() below with
// tsx (the servers use the relay's own OutputBatcher and limits from its TypeScript sources).
import { fileURLToPath } from 'node:url';
import { childCalls, forkGroup, killGroup } from './processes.mjs';

const START_TIMEOUT_MS = 30_000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

if (process.argv[2] === '--serve') {
  // The same per-key timing as in the relay (frame in → echo frame out), so workload 3 splits (f) as it splits ours.
  const { takeKeyLatencies } = await import('./key-latency.ts');
  const { startPtySocketSource, startSocketSource } = await import('./socket-source.mjs');
  const [memory, shell] = await Promise.all([startSocketSource(), startPtySocketSource()]);
  process.on('message', (message) => {
    if (message?.command === 'key-latencies') process.send({ id: message.id, result: takeKeyLatencies() });
  });
  process.send({ ready: { memory: memory.url, shell: shell.url } });
  // SIGTERM (from killGroup) exits through process.exit, so a --cpu-prof is written.
  process.once('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

/** Starts the reference process: `{ memoryUrl, shellUrl, pid, close }` (`execArgv`: `--cpu-prof` …, for profiling by hand). */
export async function startReferences({ execArgv = [] } = {}) {
  const child = forkGroup(fileURLToPath(import.meta.url), ['--serve'], {
    cwd: ROOT,
    execArgv: ['--conditions=@sandbox-terminal/source', '--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the reference servers did not start in time')), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`the reference servers exited with ${code}`)));
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message.ready);
    });
  });
  const call = childCalls(child);
  /** Per key of an echo workload on (f)'s server: ms from its input frame to its echo frame (bench/lib/key-latency.ts). */
  const keyLatencies = () => call('key-latencies');
  return { memoryUrl: urls.memory, shellUrl: urls.shell, pid: child.pid, keyLatencies, close: () => killGroup(child) };
}
