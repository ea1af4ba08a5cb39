import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import pty, { type IPty } from 'node-pty';
import type { SandboxLimitName } from '@sandbox-terminal/protocol';
import type { CommandSpawnOptions, SandboxBackend, SandboxInstance, SandboxSpec, ShellSpawnOptions } from './backend.ts';
import { oneShotBashArgs } from './command-wrapper.ts';
import { withoutInheritedFds } from './inherited-fds.ts';
import { SandboxCgroups } from './sandbox-cgroups.ts';
import { findDescendantByName, signalQuietly } from './process-tree.ts';

const BWRAP = '/usr/bin/bwrap';
const NSENTER = '/usr/bin/nsenter';
/** Where the relay's control directory appears inside the sandbox. */
const CONTROL_PATH = '/run/sandbox-terminal';
/** How long bwrap may take to report its child's pid before the start is declared failed. */
const BWRAP_START_TIMEOUT_MS = 10_000;
const SETPRIV = '/usr/bin/setpriv';
/**
 * What root may still do inside a sandbox: Docker's usual set minus raw sockets, mknod, chroot and capability
 * games; no CAP_SYS_ADMIN, so no mounts. Everything else is gone from the bounding set, for good.
 */
const DROP_CAPABILITIES = ['--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+net_bind_service', '--inh-caps=-all'];
/** How often the sandbox's init is checked while bwrap sets it up. */
const SETUP_POLL_MS = 2;
/** The host's system directories, bound read-only. Merged-/usr systems have /bin etc. as symlinks into /usr. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32', '/etc', '/opt'];

/**
 * Sandboxes as bubblewrap containers: one long-lived `bwrap` per sandbox holds the namespaces (mount, pid, uts,
 * ipc, cgroup, and net when the network is off); every shell and command enters them with `nsenter`, so all
 * sessions of a sandbox see the same processes, /tmp and localhost, and nothing of another sandbox.
 */
export class BubblewrapBackend implements SandboxBackend {
  readonly name = 'bubblewrap';
  readonly isolated = true;

  /** Whether bubblewrap and nsenter are installed and can create namespaces on this machine. */
  static probe(): { ok: true } | { ok: false; reason: string } {
    if (!existsSync(BWRAP)) return { ok: false, reason: `${BWRAP} not found (install the bubblewrap package)` };
    if (!existsSync(NSENTER) || !existsSync(SETPRIV)) return { ok: false, reason: `${NSENTER} or ${SETPRIV} not found (install util-linux)` };
    const result = spawnSync(BWRAP, [...systemBinds(), '--unshare-all', '--proc', '/proc', '--dev', '/dev', '--', 'true'], {
      timeout: 5000,
      encoding: 'utf8',
    });
    if (result.status !== 0) return { ok: false, reason: `bwrap cannot create namespaces here: ${(result.stderr || result.error?.message || '').trim()}` };
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      return { ok: false, reason: 'entering a sandbox with nsenter needs root; run the relay as root for isolation' };
    }
    return { ok: true };
  }

  async start(spec: SandboxSpec): Promise<SandboxInstance> {
    const args = [
      '--unshare-all',
      ...(spec.network ? ['--share-net'] : []),
      '--die-with-parent',
      ...systemBinds(),
      '--proc', '/proc',
      '--dev', '/dev',
      '--bind', spec.tmpDir, '/tmp',
      '--bind', spec.workspaceDir, '/workspace',
      // Read-only: the shells write only to FIFOs in it, and can plant nothing the relay would follow.
      '--ro-bind', spec.controlDir, CONTROL_PATH,
      '--chdir', '/workspace',
      '--hostname', 'sandbox',
      '--setenv', 'HOME', '/workspace',
      '--info-fd', '3',
      '--', 'sleep', 'infinity',
    ];
    // Without cgroups the sandbox runs unbounded; the relay says so at start (SECURITY.md, "Limits").
    const cgroups = spec.resources && SandboxCgroups.available() ? SandboxCgroups.create(spec.id, spec.resources) : undefined;
    const [command, commandArgs] = withoutInheritedFds(cgroups ? cgroups.wrap(BWRAP, args) : [BWRAP, args], [3]);
    const init = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    try {
      const childPid = await readChildPid(init);
      await untilSetUp(init, childPid);
      return new BubblewrapInstance(init, childPid, cgroups);
    } catch (error) {
      void cgroups?.remove();
      throw error;
    }
  }
}

function systemBinds(): string[] {
  const binds: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) {
      // Keep merged-/usr symlinks as symlinks so /bin/bash resolves inside the sandbox the same way.
      binds.push('--symlink', `usr${dir}`, dir);
    } else {
      binds.push('--ro-bind', dir, dir);
    }
  }
  return binds;
}

function readChildPid(init: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let info = '';
    let stderr = '';
    const infoPipe = init.stdio[3] as NodeJS.ReadableStream;
    const onStderr = (chunk: Buffer) => (stderr += chunk.toString());
    const onExit = (code: number | null) => fail(new Error(`bwrap exited with ${code}: ${stderr.trim()}`));
    const onInfo = (chunk: Buffer) => {
      info += chunk.toString();
      const match = /"child-pid":\s*(\d+)/.exec(info);
      if (!match) return;
      cleanUp();
      resolve(Number(match[1]));
    };
    // Only our own listeners go: the instance listens for 'exit' too, for as long as the sandbox lives.
    const cleanUp = () => {
      clearTimeout(timer);
      init.stderr?.off('data', onStderr);
      init.off('error', fail);
      init.off('exit', onExit);
      infoPipe.off('data', onInfo);
      infoPipe.resume();
      init.stderr?.resume();
    };
    const fail = (error: Error) => {
      cleanUp();
      init.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('bwrap did not start in time')), BWRAP_START_TIMEOUT_MS);
    init.stderr?.on('data', onStderr);
    init.once('error', fail);
    init.once('exit', onExit);
    infoPipe.on('data', onInfo);
  });
}

/**
 * bwrap reports the child's pid before it has finished building the mount namespace; a shell entering it then finds
 * no /bin/bash (exit 127). The namespace's init starts `sleep` only once the sandbox is complete, so wait for that.
 */
async function untilSetUp(init: ChildProcess, childPid: number): Promise<void> {
  const deadline = Date.now() + BWRAP_START_TIMEOUT_MS;
  while (findDescendantByName(childPid, 'sleep') === undefined) {
    if (init.exitCode !== null || init.signalCode !== null) throw new Error(`bwrap exited with ${init.exitCode ?? init.signalCode} while setting up`);
    if (Date.now() > deadline) {
      init.kill('SIGKILL');
      throw new Error('bwrap did not finish setting up the sandbox in time');
    }
    await new Promise((resolve) => setTimeout(resolve, SETUP_POLL_MS));
  }
}

class BubblewrapInstance implements SandboxInstance {
  readonly paths = { workspace: '/workspace', control: CONTROL_PATH };
  readonly exited: Promise<void>;

  constructor(
    private readonly init: ChildProcess,
    private readonly childPid: number,
    private readonly cgroups: SandboxCgroups | undefined,
  ) {
    this.exited = new Promise((resolve) => init.once('exit', () => resolve()));
    void this.exited.then(() => this.cgroups?.remove());
  }

  alive(): boolean {
    return processRunning(this.childPid);
  }

  limitEvents(): Record<SandboxLimitName, number> | undefined {
    return this.cgroups?.limitEvents();
  }

  /** nsenter with its arguments, started inside the sandbox's cgroups when there are any, holding no stray descriptor. */
  private enter(args: string[]): [string, string[]] {
    const full = [...this.nsenterArgs(), ...args];
    return withoutInheritedFds(this.cgroups ? this.cgroups.wrap(NSENTER, full) : [NSENTER, full]);
  }

  private nsenterArgs(): string[] {
    // -r/-w: the sandbox's root and working directory (/workspace); -p forks so the shell is inside the pid namespace.
    // -U: into bwrap's user namespace too. A process left in the host's namespace with uid 0 would hold every
    // capability inside the sandbox's namespaces (it owns them) and could remount /usr read-write.
    return ['-t', String(this.childPid), '-U', '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', '--', SETPRIV, ...DROP_CAPABILITIES, '--'];
  }

  spawnShell(options: ShellSpawnOptions): IPty {
    const [command, args] = this.enter(['/bin/bash', ...options.args]);
    return pty.spawn(command, args, {
      name: options.env.TERM ?? 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: '/',
      env: options.env,
      encoding: null,
    });
  }

  shellHostPid(shell: IPty): number | undefined {
    return findDescendantByName(shell.pid, 'bash');
  }

  spawnCommand(options: CommandSpawnOptions): ChildProcess {
    const [command, args] = this.enter(['/bin/bash', ...oneShotBashArgs(options.command, options.cwd)]);
    return spawn(command, args, {
      cwd: '/',
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
  }

  async stop(): Promise<void> {
    if (this.init.exitCode !== null || this.init.signalCode !== null) return;
    // bwrap's --die-with-parent chain: killing the outer bwrap kills the namespace's init, which ends every process in it.
    signalQuietly(this.init.pid!, 'SIGKILL');
    await this.exited;
  }
}

/** True while the process exists and is not a zombie (its state is the first field after the command name). */
function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
