// Workload 4: exec round trips through the client SDK (loopback HTTP), against the relay process, in rounds that
// interleave them with the reference of goal 4: the least an exec in a shell can take, a bare interactive bash on
// node-pty in this process that is sent `true; printf …` and answers with a marker. One-shot exec, createSession and
// 10 sessions in parallel beside.
import { Agent, get } from 'node:http';
import pty from 'node-pty';
import { getSandbox } from '@sandbox-terminal/client';
import { latencies, summarize } from '../lib/stats.mjs';

const SEQUENTIAL_EXECS = 300;
const WARM_UP_EXECS = 20;
const ONE_SHOT_EXECS = 10;
const CREATE_SESSIONS = 4;
const PARALLEL_SESSIONS = 10;
const EXECS_PER_PARALLEL_SESSION = 30;

async function timed(times, action) {
  const start = performance.now();
  await action();
  times.push(performance.now() - start);
}

/**
 * A bare bash on a PTY (interactive, no rc files), as any terminal-driven exec would use one: `roundTrip()` writes
 * `true; printf 'RT-%d-DONE\n' <n>` and resolves once `RT-<n>-DONE` is read (the echoed line never contains it).
 */
async function bareShell() {
  const shell = pty.spawn('/bin/bash', ['--norc', '--noprofile', '-i'], { cols: 120, rows: 40, encoding: null, env: { PATH: process.env.PATH, TERM: 'xterm-256color', PS1: '$ ', HOME: '/tmp' } });
  let text = '';
  let waiting;
  shell.onData((data) => {
    text = (text + data.toString('latin1')).slice(-256);
    if (waiting && text.includes(waiting.marker)) {
      const { resolve } = waiting;
      waiting = undefined;
      text = '';
      resolve();
    }
  });
  let n = 0;
  const roundTrip = () =>
    new Promise((resolve) => {
      n++;
      waiting = { marker: `RT-${n}-DONE`, resolve };
      shell.write(`true; printf 'RT-%d-DONE\\n' ${n}\r`);
    });
  for (let i = 0; i < WARM_UP_EXECS; i++) await roundTrip();
  return { roundTrip, close: () => shell.kill('SIGKILL') };
}

/**
 * The HTTP floor under any exec of an HTTP API: `GET /healthz` on a keep-alive connection (the relay's request
 * handling, its route table and a JSON answer, no shell). An exec can at best be this plus the bare shell's round trip.
 */
function httpFloor(relayUrl) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const roundTrip = () =>
    new Promise((resolve, reject) => {
      get(`${relayUrl}/healthz`, { agent }, (response) => {
        response.resume();
        response.once('end', resolve);
        response.once('error', reject);
      }).once('error', reject);
    });
  return { roundTrip, close: () => agent.destroy() };
}

export async function exec({ relayUrl, rounds }) {
  const sandbox = getSandbox(relayUrl, 'bench-exec');
  const session = await sandbox.createSession();
  const reference = await bareShell();
  const http = httpFloor(relayUrl);
  try {
    for (let i = 0; i < WARM_UP_EXECS; i++) await sandbox.exec('true', { session });
    for (let i = 0; i < WARM_UP_EXECS; i++) await http.roundTrip();
    const runs = { session: [], reference: [], http: [] };
    const all = { session: [], reference: [], http: [], oneShot: [], createSession: [] };
    for (let round = 0; round < rounds; round++) {
      const sessionTimes = [];
      for (let i = 0; i < SEQUENTIAL_EXECS; i++) await timed(sessionTimes, () => sandbox.exec('true', { session }));
      const referenceTimes = [];
      for (let i = 0; i < SEQUENTIAL_EXECS; i++) await timed(referenceTimes, reference.roundTrip);
      const httpTimes = [];
      for (let i = 0; i < SEQUENTIAL_EXECS; i++) await timed(httpTimes, http.roundTrip);
      runs.session.push(latencies(sessionTimes));
      runs.reference.push(latencies(referenceTimes));
      runs.http.push(latencies(httpTimes));
      all.session.push(...sessionTimes);
      all.reference.push(...referenceTimes);
      all.http.push(...httpTimes);
      for (let i = 0; i < ONE_SHOT_EXECS; i++) await timed(all.oneShot, () => sandbox.exec('true'));
      for (let i = 0; i < CREATE_SESSIONS; i++) await timed(all.createSession, () => sandbox.createSession());
    }
    const sessions = await Promise.all(Array.from({ length: PARALLEL_SESSIONS }, () => sandbox.createSession()));
    for (const id of sessions) await sandbox.exec('true', { session: id });
    const parallel = [];
    const start = performance.now();
    await Promise.all(sessions.map(async (id) => {
      for (let i = 0; i < EXECS_PER_PARALLEL_SESSION; i++) await timed(parallel, () => sandbox.exec('true', { session: id }));
    }));
    const seconds = (performance.now() - start) / 1000;
    return {
      rounds,
      session: { ...latencies(all.session), count: SEQUENTIAL_EXECS, p50s: summarize(runs.session.map((r) => r.p50)) },
      reference: { ...latencies(all.reference), count: SEQUENTIAL_EXECS, p50s: summarize(runs.reference.map((r) => r.p50)) },
      ofReference: summarize(runs.session.map((r, i) => r.p50 / runs.reference[i].p50)),
      http: { ...latencies(all.http), count: SEQUENTIAL_EXECS, p50s: summarize(runs.http.map((r) => r.p50)) },
      /** What the relay adds over the two floors (HTTP round trip + bare shell round trip), per round. */
      overFloors: summarize(runs.session.map((r, i) => r.p50 - runs.http[i].p50 - runs.reference[i].p50)),
      oneShot: { ...latencies(all.oneShot), count: all.oneShot.length },
      createSession: { ...latencies(all.createSession), count: all.createSession.length },
      parallel: { ...latencies(parallel), sessions: PARALLEL_SESSIONS, perSession: EXECS_PER_PARALLEL_SESSION, execsPerSecond: parallel.length / seconds },
    };
  } finally {
    reference.close();
    http.close();
  }
}
