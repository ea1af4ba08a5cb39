import type { ChildProcess } from 'node:child_process';
import type { IPty } from 'node-pty';
import type { SandboxLimitName } from '@sandbox-terminal/protocol';
import type { SandboxResources } from './sandbox-cgroups.ts';
import type { SandboxIds } from './sandbox-ids.ts';

/**
 * Where sandboxes run. The relay only talks to this interface, so a Docker or remote backend can be added
 * without touching sessions, exec or the HTTP/WebSocket layers.
 */
export interface SandboxBackend {
  /** `bubblewrap`, `unisolated`, … (logged and reported by /healthz). */
  readonly name: string;
  /** False for backends that give no isolation at all; the relay says so loudly. */
  readonly isolated: boolean;
  /**
   * The host uid/gid range its sandboxes run under, when they have their own (the relay then makes their
   * directories passable for that group only, and the files API gives new files that owner).
   */
  readonly ids?: SandboxIds;
  start(spec: SandboxSpec): Promise<SandboxInstance>;
}

export interface SandboxSpec {
  id: string;
  /** Host directory that is the sandbox's persistent `/workspace`; with `ids`, owned by the sandbox's root (`prepareWorkspace`). */
  workspaceDir: string;
  /** Host directory shared with the shells for the relay's shell integration (job files, output FIFOs). */
  controlDir: string;
  /**
   * Whether processes in the sandbox reach the network (through the backend's user-mode stack, never the host's
   * own namespace); off: only the sandbox's own loopback.
   */
  network: boolean;
  /** What the sandbox as a whole may use; backends that cannot enforce it say so (see SECURITY.md). */
  resources?: SandboxResources;
}

export interface ShellSpawnOptions {
  /** Environment inside the sandbox (complete: nothing of the relay's own environment leaks in). */
  env: Record<string, string>;
  cols: number;
  rows: number;
  /** Arguments after `bash`. */
  args: string[];
}

export interface CommandSpawnOptions {
  /** Runs as `bash -c <command>`. */
  command: string;
  /** A path inside the sandbox. */
  cwd: string;
  env: Record<string, string>;
}

/** A started sandbox: one set of namespaces that all of its sessions and commands share. */
export interface SandboxInstance {
  /** Maps a path inside the sandbox (`/workspace/x`, the control dir) to the path the relay can open. */
  readonly paths: SandboxPaths;
  /** Starts `bash` on a new PTY inside the sandbox. Its process group can be signalled via `shellHostPid`. */
  spawnShell(options: ShellSpawnOptions): IPty;
  /**
   * The host pid of the bash started by `spawnShell` (which may sit below wrapper processes such as nsenter),
   * used to find the terminal's foreground process group and the command's descendants.
   */
  shellHostPid(pty: IPty): number | undefined;
  /** Runs a one-off command with piped stdio in its own process group (killed as a whole by `-pid`). */
  spawnCommand(options: CommandSpawnOptions): ChildProcess;
  /**
   * False once the sandbox's processes are gone, checked directly (the `exited` event may come later than a shell's
   * own exit). Backends without a process of their own may leave it out.
   */
  alive?(): boolean;
  /** How often each per-sandbox limit has been enforced so far; undefined where none is applied. */
  limitEvents?(): Record<SandboxLimitName, number> | undefined;
  /** Host pid of the sandbox's outermost process (its bwrap), for operators and fault tests; killing it ends the sandbox. */
  readonly hostPid?: number;
  /** Stops every process in the sandbox. */
  stop(): Promise<void>;
  /** Resolves when the sandbox ended by itself (its init died). */
  readonly exited: Promise<void>;
}

export interface SandboxPaths {
  /** `/workspace` as the shells see it. */
  workspace: string;
  /** The control directory as the shells see it. */
  control: string;
}
