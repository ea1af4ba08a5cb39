// `npm run bench -- --keep-cpus-awake`: one busy loop per CPU at the lowest priority (nice 19) for the whole run, so no
// CPU idles. On a VM whose idle vCPUs halt (this one: cpuidle haltpoll with guest_halt_poll_ns=0), waking a process
// on a halted vCPU costs ~0.1–0.4 ms, paid at every hop between processes (client → relay → PTY worker → bash →
// relay → client); the loops yield to any other process at once, so with them running a latency shows the work on
// its path, not the platform's wake-ups. A diagnostic: the goals are judged on a normal run.
import { availableParallelism } from 'node:os';
import { killGroup, spawnGroup } from './processes.mjs';

/** Starts the loops; resolves to a function that ends them (the bench's group cleanup also ends them on a crash). */
export function keepCpusAwake() {
  const loops = Array.from({ length: availableParallelism() }, () => spawnGroup('nice', ['-n', '19', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
  return {
    count: loops.length,
    stop: () => Promise.all(loops.map((loop) => killGroup(loop, 500))),
  };
}
