// Workload 4: exec round trips through the client SDK (loopback HTTP), against the relay process.
import { getSandbox } from '@sandbox-terminal/client';
import { latencies } from '../lib/stats.mjs';

const SEQUENTIAL_EXECS = 300;
const WARM_UP_EXECS = 20;
const ONE_SHOT_EXECS = 50;
const CREATE_SESSIONS = 20;
const PARALLEL_SESSIONS = 10;
const EXECS_PER_PARALLEL_SESSION = 30;

async function timed(times, action) {
  const start = performance.now();
  await action();
  times.push(performance.now() - start);
}

export async function exec({ relayUrl }) {
  const sandbox = getSandbox(relayUrl, 'bench-exec');
  const session = await sandbox.createSession();
  for (let i = 0; i < WARM_UP_EXECS; i++) await sandbox.exec('true', { session });
  const sessionExec = [];
  for (let i = 0; i < SEQUENTIAL_EXECS; i++) await timed(sessionExec, () => sandbox.exec('true', { session }));
  const oneShot = [];
  for (let i = 0; i < ONE_SHOT_EXECS; i++) await timed(oneShot, () => sandbox.exec('true'));
  const create = [];
  for (let i = 0; i < CREATE_SESSIONS; i++) await timed(create, () => sandbox.createSession());
  const sessions = await Promise.all(Array.from({ length: PARALLEL_SESSIONS }, () => sandbox.createSession()));
  for (const id of sessions) await sandbox.exec('true', { session: id });
  const parallel = [];
  const start = performance.now();
  await Promise.all(sessions.map(async (id) => {
    for (let i = 0; i < EXECS_PER_PARALLEL_SESSION; i++) await timed(parallel, () => sandbox.exec('true', { session: id }));
  }));
  const seconds = (performance.now() - start) / 1000;
  return {
    session: { ...latencies(sessionExec), count: SEQUENTIAL_EXECS },
    oneShot: { ...latencies(oneShot), count: ONE_SHOT_EXECS },
    createSession: { ...latencies(create), count: CREATE_SESSIONS },
    parallel: { ...latencies(parallel), sessions: PARALLEL_SESSIONS, perSession: EXECS_PER_PARALLEL_SESSION, execsPerSecond: parallel.length / seconds },
  };
}
