import type { ExecResult } from '@sandbox-terminal/protocol';
import { killProcessTree } from '../sandbox/kill-tree.ts';
import { toShellPath } from '../sandbox/shell-paths.ts';
import type { SandboxRuntime } from '../sandbox/sandbox-runtime.ts';
import { ExecJob, execEnd, type ExecJobRequest } from '../session/exec-job.ts';
import { baseEnvironment } from '../session/session-environment.ts';
import { constants } from 'node:os';

/** The same request as a session exec (its `signal`: the HTTP client went away). */
export type OneShotRequest = ExecJobRequest;

/** Exit code reported when the command could not be started at all (as a shell reports "command not found"). */
const SPAWN_FAILED_EXIT_CODE = 127;

/**
 * An exec without a session: a fresh `bash -c` in the sandbox, cwd /workspace unless given, its own process
 * group so a timeout kills everything it started. The result is built by the same `ExecJob` as a session exec's.
 */
export async function runOneShot(runtime: SandboxRuntime, request: OneShotRequest): Promise<ExecResult> {
  const instance = await runtime.ensureRunning();
  const job = new ExecJob(request, undefined, runtime.limits.execOutputBytes);
  runtime.oneShotRuns++;
  runtime.touch();
  job.dispatched();
  try {
    const child = instance.spawnCommand({
      command: request.command,
      cwd: toShellPath(instance.paths, request.cwd ?? '/workspace'),
      env: { ...baseEnvironment(instance.paths), ...request.env },
    });
    const stop = () => {
      job.timedOut = true;
      if (child.pid) killProcessTree(child.pid, 'group');
    };
    const timer = request.timeoutMs ? setTimeout(stop, request.timeoutMs) : undefined;
    request.signal?.addEventListener('abort', stop, { once: true });
    child.stdout!.on('data', (chunk: Buffer) => {
      runtime.touch();
      job.addStdout(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      runtime.touch();
      job.addStderr(chunk);
    });
    child.stdin!.on('error', () => undefined); // the command may exit without reading its stdin
    child.stdin!.end(request.stdin ?? '');
    const end = await new Promise<ReturnType<typeof execEnd>>((resolve) => {
      child.once('error', () => resolve({ exitCode: SPAWN_FAILED_EXIT_CODE }));
      child.once('close', (code, signal) => resolve(execEnd(code, signal ? constants.signals[signal] : null)));
    });
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', stop);
    job.finish(end);
    return await job.result;
  } finally {
    runtime.oneShotRuns--;
    runtime.touch();
  }
}
