import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { IPty } from 'node-pty';
import { DEFAULT_LIMITS, type SandboxInstance } from '@sandbox-terminal/server';
import { ShellSession, type SessionHost } from '../../server/src/session/shell-session.ts';
import { CONTROL_FILES, EXEC_KEY } from '../../server/src/session/bash-contract.ts';
import { waitFor } from './helpers.ts';

const MARKER = (payload: string) => `\x1b]6973;${payload}\x07`;

/**
 * A PTY without bash: the test plays the shell. Its process is a real one that ignores SIGINT (so the timeout
 * escalation's interrupts do nothing, as with `trap '' INT`) and dies to SIGKILL, which is what `end()` sends.
 */
class FakeShell {
  readonly written: string[] = [];
  readonly #child: ChildProcess;
  readonly #data = new Set<(data: string) => void>();
  readonly #exit = new Set<(exit: { exitCode: number; signal?: number }) => void>();
  readonly pty: IPty;

  constructor() {
    this.#child = spawn('bash', ['-c', 'trap "" INT; while :; do sleep 1; done'], { stdio: 'ignore' });
    this.#child.once('exit', (code, signal) => {
      for (const listener of this.#exit) listener({ exitCode: code ?? 0, signal: signal === 'SIGKILL' ? 9 : 0 });
    });
    const fake = { pid: this.#child.pid!, cols: 80, rows: 24, process: 'bash', handleFlowControl: false } as Partial<IPty>;
    Object.assign(fake, {
      onData: (listener: (data: string) => void) => (this.#data.add(listener), { dispose: () => this.#data.delete(listener) }),
      onExit: (listener: (exit: { exitCode: number; signal?: number }) => void) => (this.#exit.add(listener), { dispose: () => this.#exit.delete(listener) }),
      write: (data: string | Buffer) => void this.written.push(data.toString()),
      resize: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
      kill: () => this.#child.kill('SIGKILL'),
    });
    this.pty = fake as IPty;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** The shell prints something (markers included); node-pty hands out Buffers in this relay. */
  print(text: string): void {
    for (const listener of this.#data) listener(Buffer.from(text) as unknown as string);
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

/** The seam a session talks to, faked: one sandbox whose shells are FakeShells, nothing persisted. */
function fakeHost(limits = DEFAULT_LIMITS): { host: SessionHost; shells: FakeShell[]; controlDir: string } {
  const controlRoot = mkdtempSync(join(tmpdir(), 'shell-session-unit-'));
  after(() => rmSync(controlRoot, { recursive: true, force: true }));
  const shells: FakeShell[] = [];
  after(() => shells.forEach((shell) => shell.kill()));
  const instance = {
    paths: { workspace: '/workspace', control: '/run/sandbox-terminal' },
    spawnShell: () => {
      const shell = new FakeShell();
      shells.push(shell);
      return shell.pty;
    },
    shellHostPid: (pty: IPty) => pty.pid,
    spawnCommand: () => assert.fail('no one-off commands here'),
    stop: async () => undefined,
    exited: new Promise<void>(() => undefined),
  } as unknown as SandboxInstance;
  const host: SessionHost = {
    sandboxId: 'unit',
    limits,
    controlDirFor: (id) => join(controlRoot, id),
    ensureRunning: async () => instance,
    touch: () => undefined,
    persist: async () => undefined,
    sandboxEnded: () => false,
  };
  return { host, shells, controlDir: join(controlRoot, 'session') };
}

/** What the shell does for a job it was sent: B on the terminal, the end markers on the FIFOs, E on the terminal. */
function answerJob(shell: FakeShell, controlDir: string, stdout: string, exitCode = 0): void {
  const id = /__st_job=(\w+)/.exec(readFileSync(join(controlDir, CONTROL_FILES.job), 'utf8'))![1]!;
  shell.print(`$ command\r\n${MARKER(`B;${id}`)}`);
  for (const [name, text] of [[CONTROL_FILES.stdout, `${stdout}\0\0ST-END:${id}:${exitCode}\0\0`], [CONTROL_FILES.stderr, `\0\0ST-END:${id}\0\0`]] as const) {
    const fd = openSync(join(controlDir, name), 'w');
    writeSync(fd, text);
    closeSync(fd);
  }
  shell.print(`${MARKER(`E;${id}`)}${MARKER('C')}$ ${MARKER('P')}`);
}

describe('ShellSession with a faked sandbox (no relay, no bash)', () => {
  it('starts at the first prompt and runs an exec in its shell', async () => {
    const { host, shells, controlDir } = fakeHost();
    const session = new ShellSession(host, { id: 'session', cwd: '/workspace', env: {} });
    const woken = session.wake();
    await waitFor(() => shells.length === 1, 'a shell');
    shells[0]!.print(`$ ${MARKER('P')}`);
    assert.equal(await woken, undefined, 'a new session is not a recreation');
    const result = session.exec({ command: 'echo hi' });
    await waitFor(() => shells[0]!.written.includes(EXEC_KEY), 'the exec key');
    answerJob(shells[0]!, controlDir, 'hi\n');
    assert.deepEqual([(await result).stdout, (await result).exitCode], ['hi\n', 0]);
    await session.dispose(1000, 'done');
  });

  it('an exec sent while a stuck shell is being replaced runs at the new shell\'s first prompt', async () => {
    const { host, shells, controlDir } = fakeHost({ ...DEFAULT_LIMITS, killEscalationMs: 10 });
    const session = new ShellSession(host, { id: 'session', cwd: '/tmp', env: { KEPT: '1' } });
    const woken = session.wake();
    await waitFor(() => shells.length === 1, 'a shell');
    shells[0]!.print(MARKER('P'));
    await woken;
    // The shell never answers and ignores SIGINT: interrupts, kills of its children, then a replacement.
    const stuck = await session.exec({ command: 'while :; do :; done', timeoutMs: 20 });
    assert.deepEqual([stuck.timedOut, stuck.exitCode, stuck.signal], [true, 137, 9]);
    // Sent at once, while the old shell is still being killed: before, this one was queued and never sent.
    const next = session.exec({ command: 'echo $KEPT; pwd' });
    await waitFor(() => shells.length === 2, 'the replacement shell');
    assert.equal(shells[1]!.written.includes(EXEC_KEY), false, 'nothing is sent before its prompt');
    shells[1]!.print(MARKER('P'));
    await waitFor(() => shells[1]!.written.includes(EXEC_KEY), 'the exec key at the new shell');
    assert.equal(shells[0]!.written.filter((data) => data === EXEC_KEY).length, 1, 'the old shell got only the stuck job');
    answerJob(shells[1]!, controlDir, '1\n/tmp\n');
    const result = await next;
    assert.deepEqual([result.stdout, result.timedOut, result.sessionRecreated], ['1\n/tmp\n', false, false]);
    await session.dispose(1000, 'done');
  });

  it('a shell killed by a signal ends the session with 128 + n and the signal; the running exec says the same', async () => {
    const { host, shells } = fakeHost();
    const session = new ShellSession(host, { id: 'session', cwd: '/workspace', env: {} });
    const woken = session.wake();
    await waitFor(() => shells.length === 1, 'a shell');
    shells[0]!.print(MARKER('P'));
    await woken;
    const running = session.exec({ command: 'kill -9 $$' });
    await waitFor(() => shells[0]!.written.includes(EXEC_KEY), 'the exec key');
    shells[0]!.kill();
    const result = await running;
    assert.deepEqual([result.exitCode, result.signal, result.success], [137, 9, false]);
    assert.deepEqual([session.status, session.exitCode, session.exitSignal], ['exited', 137, 9]);
    await session.dispose(1000, 'done');
  });

  it('a session loaded asleep says why when it wakes, once', async () => {
    const { host, shells } = fakeHost();
    const session = new ShellSession(host, { id: 'session', cwd: '/tmp', env: { A: '1' }, rest: { status: 'sleeping', reason: 'relay-restarted' } });
    const told: string[] = [];
    session.onRecreated((recreation) => told.push(recreation.reason));
    const woken = session.wake();
    await waitFor(() => shells.length === 1, 'a shell');
    shells[0]!.print(MARKER('P'));
    assert.deepEqual(await woken, { reason: 'relay-restarted', cwd: '/tmp', restoredEnv: ['A'] });
    assert.equal(await session.wake(), undefined);
    assert.deepEqual(told, ['relay-restarted']);
    await session.dispose(1000, 'done');
  });
});
