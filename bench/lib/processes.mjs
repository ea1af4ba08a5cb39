// Every child the bench starts is its own process group (detached) and is registered here, so one failing workload
// or a Ctrl-C still ends the relay, wetty and their shells: kill(-pgid) reaches bwrap, nsenter and bash too.
import { spawn, fork } from 'node:child_process';

const groups = new Set();

function track(child) {
  groups.add(child.pid);
  child.once('exit', () => groups.delete(child.pid));
  return child;
}

export function spawnGroup(command, args, options = {}) {
  return track(spawn(command, args, { ...options, detached: true }));
}

export function forkGroup(modulePath, args, options = {}) {
  return track(fork(modulePath, args, { ...options, detached: true }));
}

/** SIGTERM to the group, SIGKILL to whatever is left after `graceMs`. */
export async function killGroup(child, graceMs = 3_000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    signalGroup(child.pid, 'SIGKILL');
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // The leader is gone; shells it left in the group are not.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Calls to a forked child by IPC: `call(command, fields)` sends `{ id, command, ...fields }` and resolves with the
 * child's `{ id, result }` (rejects on `{ id, error }`).
 */
export function childCalls(child) {
  let nextId = 0;
  return (command, fields = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const onMessage = (message) => {
        if (message?.id !== id) return;
        child.off('message', onMessage);
        if (message.error) reject(new Error(message.error));
        else resolve(message.result);
      };
      child.on('message', onMessage);
      child.send({ id, command, ...fields });
    });
}

export function killAllGroups() {
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
  groups.clear();
}

process.once('exit', killAllGroups);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAllGroups();
    process.exit(130);
  });
}
