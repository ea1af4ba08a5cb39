// exec round trips through the client SDK against a relay in this process (bubblewrap backend on this machine).
// Usage: node --import tsx bench/exec-latency.ts   (part of `npm run bench`)
import { getSandbox } from '@sandbox-terminal/client';
import { createRelay } from '@sandbox-terminal/server';

const SEQUENTIAL_EXECS = 300;
const WARM_UP_EXECS = 20;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};
async function timed(times: number[], action: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await action();
  times.push(performance.now() - start);
}

const relay = await createRelay({ port: 0, logger: 'warn' });
try {
  const sandbox = getSandbox(relay.url, 'bench-exec');
  const session = await sandbox.createSession();
  for (let i = 0; i < WARM_UP_EXECS; i++) await sandbox.exec('true', { session });
  const sessionExec: number[] = [];
  for (let i = 0; i < SEQUENTIAL_EXECS; i++) await timed(sessionExec, () => sandbox.exec('true', { session }));
  const oneShot: number[] = [];
  for (let i = 0; i < 50; i++) await timed(oneShot, () => sandbox.exec('true'));
  const create: number[] = [];
  for (let i = 0; i < 20; i++) await timed(create, () => sandbox.createSession());
  const sessions = await Promise.all(Array.from({ length: 10 }, () => sandbox.createSession()));
  const parallelStart = performance.now();
  await Promise.all(sessions.map(async (id) => {
    for (let i = 0; i < 30; i++) await sandbox.exec('true', { session: id });
  }));
  const execsPerSecond = (sessions.length * 30) / ((performance.now() - parallelStart) / 1000);
  console.log(`| session exec('true'), ${SEQUENTIAL_EXECS} sequential | p50 ${percentile(sessionExec, 0.5).toFixed(2)} ms | p99 ${percentile(sessionExec, 0.99).toFixed(2)} ms |`);
  console.log(`| exec('true') without a session, 50 sequential | p50 ${percentile(oneShot, 0.5).toFixed(2)} ms | p99 ${percentile(oneShot, 0.99).toFixed(2)} ms |`);
  console.log(`| createSession, 20 sequential | p50 ${percentile(create, 0.5).toFixed(1)} ms | p99 ${percentile(create, 0.99).toFixed(1)} ms |`);
  console.log(`| 10 sessions x 30 execs in parallel | ${execsPerSecond.toFixed(0)} exec/s | |`);
} finally {
  await relay.close();
}
