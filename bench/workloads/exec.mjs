// Workload 4: exec round trips through the client SDK (loopback HTTP), against the relay process, in rounds that
// interleave them with the reference of goal 4: the least an exec in a shell can take, a bare interactive bash on
// node-pty in this process that is sent `true; printf …` and answers with a marker. One-shot exec, createSession and
// 10 sessions in parallel beside.
import { Agent, get } from 'node:http';
import pty from 'node-pty';
import { fileURLToPath } from 'node:url';
import { getSandbox } from '@sandbox-terminal/client';
import { cpuDelta, cpuSnapshot } from '../lib/cpu-time.mjs';
import { forkGroup, killGroup } from '../lib/processes.mjs';
import { latencies, summarize } from '../lib/stats.mjs';

const SEQUENTIAL_EXECS = 300;
/**
 * Calls made before anything is measured, so V8 has optimized the relay's exec and HTTP paths: measured on one relay,
 * 300 execs after 500 cost 0.93 ms of relay CPU each, the next 3 000 0.54 ms, the 300 after those 0.38 ms.
 */
const WARM_UP_EXECS = 3000;
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
  return { roundTrip, pid: shell.pid, close: () => shell.kill('SIGKILL') };
}

/**
 * The HTTP floor under any exec of an HTTP API: `GET /healthz` on a keep-alive connection (the relay's request
 * handling, its route table and a JSON answer, no shell). An exec can at best be this plus the bare shell's round trip.
 */
function httpFloor(relayUrl) {
  return keepAliveGets(`${relayUrl}/healthz`);
}

/** Sequential GETs of `url` on one keep-alive connection: `roundTrip()` resolves once the answer is read. */
function keepAliveGets(url) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const roundTrip = () =>
    new Promise((resolve, reject) => {
      get(url, { agent }, (response) => {
        response.resume();
        response.once('end', resolve);
        response.once('error', reject);
      }).once('error', reject);
    });
  return { roundTrip, close: () => agent.destroy() };
}

/**
 * The platform under the HTTP floor: the same GET answered by a bare `node:http` server in a process of its own
 * (bench/lib/bare-http-server.mjs). The HTTP floor less this is the relay's own request handling; this against the
 * bare bash round trip is what any exec from another process pays before anything of ours runs.
 */
async function bareHttp() {
  const server = forkGroup(fileURLToPath(new URL('../lib/bare-http-server.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve, reject) => {
    server.once('message', resolve);
    server.once('exit', (code) => reject(new Error(`the bare HTTP server exited with ${code}`)));
  });
  const gets = keepAliveGets(`http://127.0.0.1:${port}/healthz`);
  return {
    roundTrip: gets.roundTrip,
    close: async () => {
      gets.close();
      await killGroup(server, 500);
    },
  };
}

/**
 * `count` sequential calls of `call`, timed each, with the CPU each process group spent per call (ms): latency moves
 * with whatever else the machine runs, the CPU a call costs much less.
 */
async function timedRun(count, call, groups) {
  const times = [];
  const before = cpuSnapshot(groups);
  for (let i = 0; i < count; i++) await timed(times, call);
  const { groups: cpu } = cpuDelta(before, cpuSnapshot(groups));
  return { times, cpuPerCall: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / count])) };
}

/** `relayPid`: the relay's process, for the CPU per exec of the relay and of its sandbox's shell (its process tree). */
export async function exec({ relayUrl, relayPid, rounds }) {
  const sandbox = getSandbox(relayUrl, 'bench-exec');
  const session = await sandbox.createSession();
  const reference = await bareShell();
  const http = httpFloor(relayUrl);
  const platform = await bareHttp();
  try {
    for (let i = 0; i < WARM_UP_EXECS; i++) await sandbox.exec('true', { session });
    for (let i = 0; i < WARM_UP_EXECS; i++) await http.roundTrip();
    for (let i = 0; i < WARM_UP_EXECS; i++) await platform.roundTrip();
    const runs = { session: [], reference: [], http: [], platform: [] };
    const cpuGroups = { relay: { pid: relayPid }, relayTree: { root: relayPid }, bareShell: { pid: reference.pid }, client: { pid: process.pid } };
    const cpu = { relay: [], shell: [], client: [], httpRelay: [], httpClient: [], bareShell: [], bareClient: [] };
    const all = { session: [], reference: [], http: [], oneShot: [], createSession: [] };
    for (let round = 0; round < rounds; round++) {
      const execRun = await timedRun(SEQUENTIAL_EXECS, () => sandbox.exec('true', { session }), cpuGroups);
      const referenceRun = await timedRun(SEQUENTIAL_EXECS, reference.roundTrip, cpuGroups);
      const httpRun = await timedRun(SEQUENTIAL_EXECS, http.roundTrip, cpuGroups);
      const platformTimes = [];
      for (let i = 0; i < SEQUENTIAL_EXECS; i++) await timed(platformTimes, platform.roundTrip);
      runs.platform.push(latencies(platformTimes));
      const [sessionTimes, referenceTimes, httpTimes] = [execRun.times, referenceRun.times, httpRun.times];
      // The relay's tree less the relay: the sandbox's processes, of which only the session's bash runs here.
      cpu.relay.push(execRun.cpuPerCall.relay);
      cpu.shell.push(execRun.cpuPerCall.relayTree - execRun.cpuPerCall.relay);
      cpu.client.push(execRun.cpuPerCall.client);
      cpu.httpRelay.push(httpRun.cpuPerCall.relay);
      cpu.httpClient.push(httpRun.cpuPerCall.client);
      cpu.bareShell.push(referenceRun.cpuPerCall.bareShell);
      cpu.bareClient.push(referenceRun.cpuPerCall.client);
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
      /** The two floors alone over the bare bash round trip, per round: the least any exec over HTTP can reach against goal 4. */
      floorsOfReference: summarize(runs.http.map((http, i) => 1 + http.p50 / runs.reference[i].p50)),
      platform: { count: SEQUENTIAL_EXECS, p50s: summarize(runs.platform.map((r) => r.p50)) },
      /** The relay's healthz over the bare server's answer, per round: the relay's own request handling. */
      httpOverPlatform: summarize(runs.http.map((http, i) => http.p50 - runs.platform[i].p50)),
      /** The bare HTTP round trip over the bare bash round trip, per round: goal 4 leaves 0.5 for transport and ours. */
      platformOfReference: summarize(runs.platform.map((platformRun, i) => platformRun.p50 / runs.reference[i].p50)),
      /** CPU ms per call, per round: an exec's relay, shell and client; the HTTP floor's relay and client; the bare bash and its client. */
      cpu: Object.fromEntries(Object.entries(cpu).map(([name, list]) => [name, summarize(list)])),
      oneShot: { ...latencies(all.oneShot), count: all.oneShot.length },
      createSession: { ...latencies(all.createSession), count: all.createSession.length },
      parallel: { ...latencies(parallel), sessions: PARALLEL_SESSIONS, perSession: EXECS_PER_PARALLEL_SESSION, execsPerSecond: parallel.length / seconds },
    };
  } finally {
    reference.close();
    http.close();
    await platform.close();
  }
}
