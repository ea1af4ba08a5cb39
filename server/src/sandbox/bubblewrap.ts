import { spawn, spawnSync, type ChildProcess, type IOType } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import pty, { type IPty } from 'node-pty';
import type { SandboxLimitName } from '@sandbox-terminal/protocol';
import type { CommandSpawnOptions, SandboxBackend, SandboxInstance, SandboxSpec, ShellSpawnOptions } from './backend.ts';
import { oneShotBashArgs } from './command-wrapper.ts';
import { sandboxEnterPath } from './native.ts';
import { SandboxCgroups } from './sandbox-cgroups.ts';
import { conflictsOnHost, idMapLines, type SandboxIds } from './sandbox-ids.ts';
import { SANDBOX_DNS_ADDRESS, allowTunFor, connectSandbox, probeNetwork, type NetworkOptions } from './sandbox-network.ts';
import { findDescendantByName, signalQuietly } from './process-tree.ts';

const BWRAP = '/usr/bin/bwrap';
/** Where the relay's control directory appears inside the sandbox. */
const CONTROL_PATH = '/run/sandbox-terminal';
/** How long bwrap may take from its start to the sandbox's init running. */
const BWRAP_START_TIMEOUT_MS = 10_000;
/** The host's system directories, bound read-only. Merged-/usr systems have /bin etc. as symlinks into /usr. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32', '/etc', '/opt'];
/** Kernel interfaces under the sandbox's /proc that stay read-only (Docker's read-only paths), where the kernel has them. */
const READ_ONLY_PROC = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus', '/proc/fs'];
/** Host information under /proc a sandbox has no need of (Docker's masked paths): covered with an empty file. */
const MASKED_PROC = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats', '/proc/kallsyms'];
/**
 * Where `sandbox-enter --stage` mounts its small tmpfs of binds, in bwrap's own mount namespace only: the first that
 * exists (bwrap never needs what it hides there).
 */
const STAGE_CANDIDATES = ['/run', '/mnt', '/media', '/srv'];
/** The descriptors bwrap is given (see `start`). */
const FD = { args: 3, info: 4, usernsBlock: 5, seccomp: 6, ready: 7, resolvConf: 8 } as const;

export interface BubblewrapOptions {
  /** The host id range sandboxes run under. */
  ids: SandboxIds;
  /** What "network on" may reach (see sandbox-network.ts). */
  network: NetworkOptions;
}

/**
 * Sandboxes as bubblewrap containers under an unprivileged host uid range. One long-lived `bwrap` per sandbox holds
 * its namespaces (user, mount, pid, uts, ipc, cgroup and always its own network); it runs as the sandbox's host uid,
 * and the relay writes its user namespace's id map (`--userns-block-fd`), which maps root inside onto that uid.
 * Every shell and command enters through `sandbox-enter` (server/native), which adds the capability bounding set,
 * no_new_privs and the seccomp filter; bwrap's own init gets the same filter (`--seccomp`). So all sessions of a
 * sandbox see the same processes, /tmp and network, nothing of another sandbox, and nothing of the host as root.
 */
export class BubblewrapBackend implements SandboxBackend {
  readonly name = 'bubblewrap';
  readonly isolated = true;
  readonly #helper: string;
  readonly #seccompFilter: Buffer;
  readonly #networkReady: { ok: true } | { ok: false; reason: string };
  readonly #stageAt: string;
  /** What the backend changed on the host to work (logged by the relay at start). */
  readonly hostChanges: string[] = [];

  get ids(): SandboxIds {
    return this.options.ids;
  }

  constructor(private readonly options: BubblewrapOptions) {
    const helper = sandboxEnterPath();
    if (!helper.ok) throw new Error(helper.reason);
    this.#helper = helper.path;
    const filter = spawnSync(this.#helper, ['--print-seccomp-bpf'], { timeout: 5000 });
    if (filter.status !== 0 || !filter.stdout?.length) throw new Error(`the seccomp filter could not be built: ${filter.stderr?.toString().trim()}`);
    this.#seccompFilter = filter.stdout;
    const stageAt = STAGE_CANDIDATES.find((dir) => existsSync(dir) && lstatSync(dir).isDirectory());
    if (!stageAt) throw new Error(`none of ${STAGE_CANDIDATES.join(', ')} exists to stage bind mounts on`);
    this.#stageAt = stageAt;
    let network = probeNetwork();
    if (network.ok) {
      try {
        const change = allowTunFor(options.ids);
        if (change) this.hostChanges.push(change);
      } catch (error) {
        network = { ok: false, reason: `pasta cannot open /dev/net/tun as the sandboxes' user: ${(error as Error).message}` };
      }
    }
    this.#networkReady = network;
  }

  /** Why "network on" cannot be offered here (sandboxes then start offline), or undefined when it can. */
  get networkUnavailable(): string | undefined {
    return this.#networkReady.ok ? undefined : this.#networkReady.reason;
  }

  /** Whether bubblewrap, the helper and unprivileged user namespaces work on this machine, as this (root) process. */
  static probe(ids: SandboxIds): { ok: true } | { ok: false; reason: string } {
    if (!existsSync(BWRAP)) return { ok: false, reason: `${BWRAP} not found (install the bubblewrap package)` };
    const helper = sandboxEnterPath();
    if (!helper.ok) return helper;
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      return { ok: false, reason: 'mapping sandbox ids and entering sandboxes needs root; run the relay as root for isolation' };
    }
    const conflict = conflictsOnHost(ids);
    if (conflict) return { ok: false, reason: `${conflict}; choose another range with --sandbox-ids` };
    const result = spawnSync(helper.path, ['--become', `${ids.uid}:${ids.gid}`, '--', BWRAP, '--unshare-all', '--uid', '0', '--gid', '0', ...systemBinds(), '--proc', '/proc', '--dev', '/dev', '--', 'true'], { timeout: 5000, encoding: 'utf8' });
    if (result.status !== 0) return { ok: false, reason: `bwrap cannot create namespaces as an unprivileged user here: ${(result.stderr || result.error?.message || '').trim()}` };
    return { ok: true };
  }

  async start(spec: SandboxSpec): Promise<SandboxInstance> {
    const { ids } = this.options;
    const network = spec.network && this.#networkReady.ok;
    const args = [
      '--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup',
      '--uid', '0', '--gid', '0',
      '--userns-block-fd', String(FD.usernsBlock), '--info-fd', String(FD.info), '--seccomp', String(FD.seccomp),
      '--die-with-parent', '--new-session',
      ...systemBinds(),
      ...(network ? ['--ro-bind-data', String(FD.resolvConf), '/etc/resolv.conf'] : []),
      '--proc', '/proc',
      ...READ_ONLY_PROC.flatMap((path) => ['--ro-bind-try', path, path]),
      // A mount point under /proc cannot be made, so only what this kernel has is covered.
      ...MASKED_PROC.filter((path) => existsSync(path)).flatMap((path) => ['--ro-bind', '/dev/null', path]),
      '--dev', '/dev',
      ...(spec.resources?.tmpBytes ? ['--size', String(spec.resources.tmpBytes)] : []),
      '--perms', '1777', '--tmpfs', '/tmp',
      // The two host directories arrive staged (see `--stage` below): bwrap runs as the sandbox's uid, which may not
      // pass the root-only directories they lie in.
      '--bind', `${this.#stageAt}/0`, '/workspace',
      // Read-only: the shells write only to FIFOs in it, and can plant nothing the relay would follow.
      '--ro-bind', `${this.#stageAt}/1`, CONTROL_PATH,
      '--chdir', '/workspace',
      '--hostname', 'sandbox',
      '--setenv', 'HOME', '/workspace',
    ];
    // The init says when the sandbox is complete (bwrap reports its pid before the mounts are done). bwrap takes the
    // command from its own command line only, not from `--args`.
    const initCommand = ['/bin/sh', '-c', `echo ready >&${FD.ready}; exec sleep infinity ${FD.ready}>&-`];
    // Without cgroups the sandbox runs unbounded; the relay says so at start (SECURITY.md, "Limits").
    const cgroups = spec.resources && SandboxCgroups.available() ? SandboxCgroups.create(spec.id, spec.resources) : undefined;
    const enterCgroups = (cgroups?.procsFiles() ?? []).flatMap((file) => ['--cgroup-procs', file]);
    // Arguments travel through a pipe (`--args`): on the command line they would show the host's paths to `ps` inside.
    const stdio: IOType[] = ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...(network ? ['pipe' as const] : [])];
    // Only these descriptors reach bwrap: anything else open in the relay (other sessions' terminals) is closed.
    const become = ['--become', `${ids.uid}:${ids.gid}`, '--keep-fds', String(stdio.length), '--stage-at', this.#stageAt, '--stage', spec.workspaceDir, '--stage', spec.controlDir];
    const init: ChildProcess = spawn(this.#helper, [...become, ...enterCgroups, '--', BWRAP, '--args', String(FD.args), '--', ...initCommand], { stdio });
    let pasta: ChildProcess | undefined;
    try {
      writeAll(init, FD.args, Buffer.from(`${args.join('\0')}\0`));
      writeAll(init, FD.seccomp, this.#seccompFilter);
      if (network) writeAll(init, FD.resolvConf, Buffer.from(resolvConf()));
      const childPid = await startChild(init, (pid) => {
        const maps = idMapLines(ids);
        writeFileSync(`/proc/${pid}/uid_map`, maps.uidMap);
        writeFileSync(`/proc/${pid}/gid_map`, maps.gidMap);
      });
      if (network) pasta = await connectSandbox({ pid: childPid, helper: this.#helper, ids, allow: this.options.network.allow });
      return new BubblewrapInstance(init, childPid, cgroups, this.#helper, pasta);
    } catch (error) {
      init.kill('SIGKILL');
      pasta?.kill('SIGKILL');
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

/** The sandbox's resolver: pasta's DNS forwarder, with the host's search domains and options. */
function resolvConf(): string {
  const host = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
  const kept = host.split('\n').filter((line) => /^\s*(search|domain|options)\b/.test(line));
  return [`nameserver ${SANDBOX_DNS_ADDRESS}`, ...kept, ''].join('\n');
}

function writeAll(child: ChildProcess, fd: number, data: Buffer): void {
  const pipe = (child.stdio as unknown[])[fd] as Writable;
  // bwrap closing its end early (it failed) is reported by its exit, not as an unhandled stream error.
  pipe.on('error', () => undefined);
  pipe.end(data);
}

/**
 * Follows bwrap through its start: the child's pid arrives on the info descriptor, `mapIds` writes the user
 * namespace's maps, a byte on the block descriptor lets the child go on, and the init's "ready" says it is complete.
 */
function startChild(init: ChildProcess, mapIds: (pid: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let info = '';
    let stderr = '';
    let childPid: number | undefined;
    const infoPipe = (init.stdio as unknown[])[FD.info] as NodeJS.ReadableStream;
    const readyPipe = (init.stdio as unknown[])[FD.ready] as NodeJS.ReadableStream;
    const onStderr = (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(0, 4000));
    const onExit = (code: number | null, signal: string | null) => fail(new Error(`bwrap exited with ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`));
    const onInfo = (chunk: Buffer) => {
      info += chunk.toString();
      const match = /"child-pid":\s*(\d+)/.exec(info);
      if (!match || childPid !== undefined) return;
      childPid = Number(match[1]);
      try {
        mapIds(childPid);
      } catch (error) {
        fail(new Error(`could not map the sandbox's ids: ${(error as Error).message}`));
        return;
      }
      writeAll(init, FD.usernsBlock, Buffer.from('1'));
    };
    const onReady = () => {
      if (childPid === undefined) return;
      cleanUp();
      resolve(childPid);
    };
    // Only our own listeners go: the instance listens for 'exit' too, for as long as the sandbox lives.
    const cleanUp = () => {
      clearTimeout(timer);
      init.stderr?.off('data', onStderr);
      init.off('error', fail);
      init.off('exit', onExit);
      infoPipe.off('data', onInfo);
      readyPipe.off('data', onReady);
      infoPipe.resume();
      readyPipe.resume();
      init.stderr?.resume();
    };
    const fail = (error: Error) => {
      cleanUp();
      init.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('bwrap did not finish setting up the sandbox in time')), BWRAP_START_TIMEOUT_MS);
    init.stderr?.on('data', onStderr);
    init.once('error', fail);
    init.once('exit', onExit);
    infoPipe.on('data', onInfo);
    readyPipe.on('data', onReady);
  });
}

class BubblewrapInstance implements SandboxInstance {
  readonly paths = { workspace: '/workspace', control: CONTROL_PATH };
  readonly exited: Promise<void>;
  /** Settles once pasta is gone and the cgroups are removed, after the sandbox's processes ended. */
  readonly #cleanedUp: Promise<void>;

  constructor(
    private readonly init: ChildProcess,
    private readonly childPid: number,
    private readonly cgroups: SandboxCgroups | undefined,
    private readonly helper: string,
    private readonly pasta: ChildProcess | undefined,
  ) {
    this.exited = new Promise((resolve) => init.once('exit', () => resolve()));
    this.#cleanedUp = this.exited.then(async () => {
      this.pasta?.kill('SIGKILL');
      await this.cgroups?.remove();
    });
  }

  get hostPid(): number | undefined {
    return this.init.pid;
  }

  alive(): boolean {
    return processRunning(this.childPid);
  }

  limitEvents(): Record<SandboxLimitName, number> | undefined {
    return this.cgroups?.limitEvents();
  }

  /** `sandbox-enter` for one program: into the cgroups, the namespaces and the sandbox's user, `cwd` inside. */
  #enter(cwd: string, program: string[]): string[] {
    const cgroups = (this.cgroups?.procsFiles() ?? []).flatMap((file) => ['--cgroup-procs', file]);
    return ['--pid', String(this.childPid), ...cgroups, '--cwd', cwd, '--', ...program];
  }

  spawnShell(options: ShellSpawnOptions): IPty {
    return pty.spawn(this.helper, this.#enter('/workspace', ['/bin/bash', ...options.args]), {
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
    return spawn(this.helper, this.#enter('/workspace', ['/bin/bash', ...oneShotBashArgs(options.command, options.cwd)]), {
      cwd: '/',
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
  }

  async stop(): Promise<void> {
    if (this.init.exitCode !== null || this.init.signalCode !== null) return this.#cleanedUp;
    // bwrap's --die-with-parent chain: killing the outer bwrap kills the namespace's init, which ends every process in it.
    signalQuietly(this.init.pid!, 'SIGKILL');
    // A relay that closes (or sleeps every sandbox) leaves no cgroup behind.
    await this.#cleanedUp;
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
