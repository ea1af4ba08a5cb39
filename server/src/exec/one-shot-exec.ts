import type { ExecResult } from '@sandbox-terminal/protocol';
import { descendantPids, signalQuietly } from '../sandbox/process-tree.ts';
import type { SandboxRuntime } from '../sandbox/sandbox-runtime.ts';
import type { ExecJobRequest } from '../session/exec-job.ts';
import { baseEnvironment } from '../session/session-environment.ts';
import { OutputCollector } from './output-collector.ts';

/** The same request as a session exec (its `signal`: the HTTP client went away). */
export type OneShotRequest = ExecJobRequest;

/**
 * An exec without a session: a fresh `bash -c` in the sandbox, cwd /workspace unless given, its own process
 * group so a timeout kills everything it started.
 */
export async function runOneShot(runtime: SandboxRuntime, request: OneShotRequest): Promise<ExecResult> {
  const instance = await runtime.ensureRunning();
  const workspace = instance.paths.workspace;
  const cwd = (request.cwd ?? '/workspace').replace(/^\/workspace(?=\/|$)/, workspace);
  const stdout = new OutputCollector(runtime.limits.execOutputBytes);
  const stderr = new OutputCollector(runtime.limits.execOutputBytes);
  const emit = request.onEvent ?? (() => undefined);
  runtime.oneShotRuns++;
  runtime.touch();
  const started = performance.now();
  emit({ type: 'start', command: request.command, sessionRecreated: false, timestamp: new Date().toISOString() });
  try {
    const child = instance.spawnCommand({ command: request.command, cwd, env: { ...baseEnvironment(instance.paths), ...request.env } });
    let timedOut = false;
    const kill = () => {
      if (!child.pid) return;
      for (const pid of descendantPids(child.pid)) signalQuietly(pid, 'SIGKILL');
      signalQuietly(-child.pid, 'SIGKILL');
    };
    const timer = request.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, request.timeoutMs)
      : undefined;
    const onAbort = () => {
      timedOut = true;
      kill();
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (chunk: Buffer) => {
      runtime.touch();
      const text = stdout.add(chunk);
      if (text) emit({ type: 'stdout', data: text });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      runtime.touch();
      const text = stderr.add(chunk);
      if (text) emit({ type: 'stderr', data: text });
    });
    child.stdin!.on('error', () => undefined); // the command may exit without reading its stdin
    child.stdin!.end(request.stdin ?? '');
    const exitCode = await new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : -1)));
    });
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
    for (const [stream, collector] of [['stdout', stdout], ['stderr', stderr]] as const) {
      const tail = collector.flushText();
      if (tail) emit({ type: stream, data: tail });
    }
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    const truncated = stdout.truncated || stderr.truncated;
    const success = exitCode === 0 && !timedOut;
    emit({ type: 'exit', exitCode, success, timedOut, truncated, durationMs });
    return { success, exitCode, stdout: stdout.text(), stderr: stderr.text(), durationMs, timedOut, truncated, sessionRecreated: false, command: request.command };
  } finally {
    runtime.oneShotRuns--;
    runtime.touch();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return numbers[signal] ?? 0;
}
