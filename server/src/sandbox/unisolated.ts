import { spawn, type ChildProcess } from 'node:child_process';
import pty, { type IPty } from 'node-pty';
import type { CommandSpawnOptions, SandboxBackend, SandboxInstance, SandboxSpec, ShellSpawnOptions } from './backend.ts';
import { oneShotBashArgs } from './command-wrapper.ts';
import { descendantPids, signalQuietly } from './process-tree.ts';

/**
 * NOT A SANDBOX. Shells run as the relay's own user on the host, in the sandbox's workspace directory, so
 * development works where bubblewrap is missing. Paths inside are host paths; `/workspace` in API calls still
 * maps to the workspace directory. The relay logs a warning and /healthz reports `isolated: false`.
 */
export class UnisolatedBackend implements SandboxBackend {
  readonly name = 'unisolated';
  readonly isolated = false;

  async start(spec: SandboxSpec): Promise<SandboxInstance> {
    return new UnisolatedInstance(spec);
  }
}

class UnisolatedInstance implements SandboxInstance {
  readonly paths: { workspace: string; control: string };
  readonly exited: Promise<void>;
  readonly #processes = new Set<number>();
  #resolveExited!: () => void;

  constructor(spec: SandboxSpec) {
    this.paths = { workspace: spec.workspaceDir, control: spec.controlDir };
    this.exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  spawnShell(options: ShellSpawnOptions): IPty {
    const shell = pty.spawn('/bin/bash', options.args, {
      name: options.env.TERM ?? 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: this.paths.workspace,
      env: options.env,
      encoding: null,
    });
    this.#processes.add(shell.pid);
    shell.onExit(() => this.#processes.delete(shell.pid));
    return shell;
  }

  shellHostPid(shell: IPty): number | undefined {
    return shell.pid;
  }

  spawnCommand(options: CommandSpawnOptions): ChildProcess {
    const child = spawn('/bin/bash', oneShotBashArgs(options.command, options.cwd), {
      cwd: this.paths.workspace,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid) {
      const pid = child.pid;
      this.#processes.add(pid);
      child.once('exit', () => this.#processes.delete(pid));
    }
    return child;
  }

  async stop(): Promise<void> {
    for (const pid of this.#processes) {
      for (const descendant of descendantPids(pid)) signalQuietly(descendant, 'SIGKILL');
      signalQuietly(-pid, 'SIGKILL');
      signalQuietly(pid, 'SIGKILL');
    }
    this.#processes.clear();
    this.#resolveExited();
  }
}
