import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import type { SandboxLimitName } from '@sandbox-terminal/protocol';
import { dirname, join } from 'node:path';
import { processExists } from './process-tree.ts';

/** Where cgroup v1 hierarchies are mounted (Debian 12 on cgroup v1 hosts, many containers). */
const CGROUP_V1_ROOT = '/sys/fs/cgroup';
/** All our groups live under one directory per relay process, so relays on one host never share a group. */
const GROUP_PARENT = `sandbox-terminal-${process.pid}`;
/** How often removing a group is retried while the kernel finishes reaping its processes. */
const REMOVE_ATTEMPTS = 20;
const REMOVE_RETRY_MS = 25;
/** Each start gets fresh groups, so a woken sandbox never races the removal of its previous start's groups. */
let startCounter = 0;
/** The CFS period the CPU quota is a share of (the kernel's default). */
const CPU_PERIOD_US = 100_000;

/** What one sandbox may use as a whole: every process of every session and command in it counts. */
export interface SandboxResources {
  /** Processes and threads at once (cgroup `pids.max`). A fork over it fails inside the sandbox with EAGAIN. */
  processes: number;
  /** Memory, page cache included (cgroup v1 `memory.limit_in_bytes`). Over it the kernel's OOM killer ends a process in the sandbox. */
  memoryBytes: number;
  /** CPU time as a number of cores (cgroup v1 CFS quota); 0.5 is half of one core. Only where the `cpu` controller is mounted. */
  cpuCores: number;
  /** Size of the sandbox's `/tmp` (a tmpfs; its pages count against `memoryBytes` too). Over it: ENOSPC inside. */
  tmpBytes?: number;
  /** Size of `/workspace` in bytes (guest sandboxes set it); enforcement is the backend's. Absent: no limit. */
  workspaceBytes?: number;
}

/**
 * One sandbox's cgroups (v1 `pids` and `memory` controllers, and `cpu` where mounted). rlimits cannot do this job: RLIMIT_NPROC counts per
 * uid across the host and exempts uid 0, RLIMIT_AS bounds each process alone. Every process the backend starts is
 * moved into the groups before it execs (see `wrap`), so all its descendants are counted too.
 */
export class SandboxCgroups {
  /** Counter files stay open: read in the relay twice per exec, an open-read-close took ~94 µs p50 and a positioned read ~29 µs. */
  readonly #counterFiles = new Map<string, number>();
  /** `pids.events` and `memory.oom_control`, joined once (a `path.join` per read showed in the exec profile). */
  readonly #counterPaths: [string, string];
  #removed = false;

  private constructor(private readonly dirs: string[]) {
    this.#counterPaths = [join(dirs[0]!, 'pids.events'), join(dirs[1]!, 'memory.oom_control')];
  }

  /**
   * How often each limit has been enforced since the groups were made: forks refused at `pids.max` (`pids.events`)
   * and processes the OOM killer ended (`oom_kill` in `memory.oom_control`). A counter the kernel does not offer
   * reads as 0.
   */
  limitEvents(): Record<SandboxLimitName, number> {
    const [pids, memory] = this.#counterPaths;
    return {
      sandboxProcesses: this.#counter(pids, PIDS_MAX_LINE),
      sandboxMemoryBytes: this.#counter(memory, OOM_KILL_LINE),
    };
  }

  /** The number after `line` (a `name ` prefix) in a cgroup file of `name value` lines; 0 when the file or the line is missing. */
  #counter(file: string, line: Buffer): number {
    try {
      let fd = this.#counterFiles.get(file);
      if (fd === undefined) {
        if (this.#removed) return 0;
        fd = openSync(file, 'r');
        this.#counterFiles.set(file, fd);
      }
      // cgroup files are generated afresh by each read from offset 0.
      const length = readSync(fd, counterBuffer, 0, counterBuffer.length, 0);
      const text = counterBuffer.subarray(0, length);
      let at = text.indexOf(line);
      while (at > 0 && text[at - 1] !== 0x0a) at = text.indexOf(line, at + 1);
      if (at < 0) return 0;
      const end = text.indexOf(0x0a, at);
      return Number(text.toString('latin1', at + line.length, end < 0 ? length : end)) || 0;
    } catch {
      return 0;
    }
  }

  /** Whether this host has writable cgroup v1 `pids` and `memory` hierarchies. */
  static available(): boolean {
    return ['pids', 'memory'].every((controller) => existsSync(join(CGROUP_V1_ROOT, controller, 'cgroup.procs')));
  }

  /** Creates the groups with their limits; throws when the host refuses (read-only cgroupfs, no controller). */
  static create(sandboxId: string, resources: SandboxResources): SandboxCgroups {
    const name = `${sandboxId}-${++startCounter}`;
    const pids = join(CGROUP_V1_ROOT, 'pids', GROUP_PARENT, name);
    const memory = join(CGROUP_V1_ROOT, 'memory', GROUP_PARENT, name);
    mkdirSync(pids, { recursive: true });
    mkdirSync(memory, { recursive: true });
    const cpu = existsSync(join(CGROUP_V1_ROOT, 'cpu', 'cgroup.procs')) ? join(CGROUP_V1_ROOT, 'cpu', GROUP_PARENT, name) : undefined;
    if (cpu) mkdirSync(cpu, { recursive: true });
    const groups = new SandboxCgroups(cpu ? [pids, memory, cpu] : [pids, memory]);
    try {
      writeFileSync(join(pids, 'pids.max'), String(resources.processes));
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(resources.memoryBytes));
      if (cpu) {
        writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1_000, Math.round(resources.cpuCores * CPU_PERIOD_US))));
      }
    } catch (error) {
      void groups.remove();
      throw error;
    }
    return groups;
  }

  /**
   * The groups' `cgroup.procs` files: `sandbox-enter --cgroup-procs` writes its own pid into each before it execs or
   * forks, so every process of the sandbox is counted from its first instruction.
   */
  procsFiles(): string[] {
    return this.dirs.map((dir) => join(dir, 'cgroup.procs'));
  }

  /**
   * Removes the groups relays left behind when they were killed (`kill -9` skips every cleanup): their processes are
   * gone (bwrap dies with its parent), so the empty directories of a relay pid that no longer runs can go.
   */
  static removeStale(): number {
    let removed = 0;
    for (const controller of ['pids', 'memory', 'cpu']) {
      const root = join(CGROUP_V1_ROOT, controller);
      if (!existsSync(root)) continue;
      for (const entry of readdirSync(root)) {
        const match = /^sandbox-terminal-(\d+)$/.exec(entry);
        if (!match || processExists(Number(match[1]))) continue;
        const parent = join(root, entry);
        try {
          for (const group of readdirSync(parent, { withFileTypes: true })) if (group.isDirectory()) rmdirSync(join(parent, group.name));
          rmdirSync(parent);
          removed++;
        } catch {
          // a process still in it (not ours to kill): left for the next start
        }
      }
    }
    return removed;
  }

  /** Removes the groups once their processes are gone (the kernel refuses earlier with EBUSY). */
  async remove(): Promise<void> {
    this.#removed = true;
    for (const fd of this.#counterFiles.values()) closeSync(fd);
    this.#counterFiles.clear();
    for (const dir of this.dirs) {
      for (let attempt = 0; attempt < REMOVE_ATTEMPTS && existsSync(dir); attempt++) {
        try {
          rmdirSync(dir);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS));
        }
      }
      // The relay's parent group goes with its last sandbox (EBUSY while others remain: they remove it later).
      try {
        rmdirSync(dirname(dir));
      } catch {
        // other sandboxes of this relay still run
      }
    }
  }
}

/** Big enough for `memory.oom_control` (three short lines) and `pids.events` (one). */
const counterBuffer = Buffer.alloc(512);
/** The lines of the two counters, as bytes: the files are searched without decoding them. */
const PIDS_MAX_LINE = Buffer.from('max ');
const OOM_KILL_LINE = Buffer.from('oom_kill ');
