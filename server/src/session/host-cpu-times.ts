import { closeSync, openSync, readSync } from 'node:fs';
import { cpus } from 'node:os';

/** Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture Node runs on. */
const MS_PER_TICK = 10;
/** The aggregate `cpu` line comes first and is well under this. */
const FIRST_LINE_BYTES = 256;

export interface CpuTimes {
  /** Milliseconds all CPUs together spent busy (not idle, not waiting for I/O) since boot. */
  busy: number;
  /** Milliseconds all CPUs together have counted since boot. */
  total: number;
}

/**
 * The host's cumulative CPU times, read cheaply enough for a hot path. `os.cpus()` also reads every CPU's model and
 * frequency (/proc/cpuinfo, sysfs): ~50 µs here, with spikes over 1 ms; a positioned read of /proc/stat's first line
 * from a file kept open costs ~8 µs. Falls back to `os.cpus()` where there is no /proc/stat.
 */
export class HostCpuTimes {
  #fd: number | undefined;
  readonly #buffer = Buffer.alloc(FIRST_LINE_BYTES);

  constructor() {
    try {
      this.#fd = openSync('/proc/stat', 'r');
    } catch {
      this.#fd = undefined;
    }
  }

  read(): CpuTimes {
    if (this.#fd !== undefined) {
      const times = this.#readProcStat(this.#fd);
      if (times) return times;
    }
    return fromOsCpus();
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** `cpu  user nice system idle iowait irq softirq steal guest guest_nice` (guest time is inside user and nice). */
  #readProcStat(fd: number): CpuTimes | undefined {
    const length = readSync(fd, this.#buffer, 0, FIRST_LINE_BYTES, 0);
    const end = this.#buffer.indexOf(0x0a);
    const line = this.#buffer.toString('latin1', 0, end > 0 ? end : length);
    if (!line.startsWith('cpu ')) return undefined;
    const ticks = line.slice(4).trim().split(/\s+/).slice(0, 8).map(Number);
    if (ticks.length < 4 || ticks.some((value) => !Number.isFinite(value))) return undefined;
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = ticks[3]! + (ticks[4] ?? 0);
    return { busy: (total - idle) * MS_PER_TICK, total: total * MS_PER_TICK };
  }
}

function fromOsCpus(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}
