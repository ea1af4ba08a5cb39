import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { HostCpuTimes } from './host-cpu-times.ts';

/**
 * Relay-wide priority for typing. When the CPU is saturated, every hop of an echo (relay, shell, and the browser's
 * processes where they share the host) waits for a core, and one session flooding output is enough to saturate it.
 * So while a person types in one session and the host or the relay is busy, every other session's output is paced to
 * `bulkOutputBytesPerSecond` (a token bucket per session) until `typingWindowMs` after the last keystroke. The typing
 * session itself is never paced, and nothing is dropped: a paced PTY is read later.
 */
export class TypingPriority {
  /** Last keystroke time (performance.now()) per session that typed recently. */
  readonly #typedAt = new Map<object, number>();
  #lastTypedAt = -Infinity;
  readonly #load: LoadGauge;
  /** Set once the load was found high during this stretch of typing; cleared when the typing stops. */
  #contended = false;

  constructor(
    readonly bytesPerSecond: number,
    readonly windowMs: number,
    /** Busy fraction (0–1) of the host's CPUs or of the relay's event loop from which pacing starts; 0: always. */
    readonly loadThreshold: number,
    load: LoadGauge = new HostLoadGauge(),
  ) {
    this.#load = load;
  }

  get enabled(): boolean {
    return this.bytesPerSecond > 0 && this.windowMs > 0;
  }

  /** A viewer typed into `session`. */
  typed(session: object, now = performance.now()): void {
    if (!this.enabled) return;
    if (now - this.#lastTypedAt > this.windowMs) this.#contended = false;
    this.#typedAt.set(session, now);
    this.#lastTypedAt = now;
  }

  /** Whether `session`'s output should be paced now: someone typed elsewhere within the window, under load. */
  paces(session: object, now = performance.now()): boolean {
    if (!this.enabled) return false;
    // Asked on every output chunk, so the gauge always holds the load of the last ~100 ms: when typing starts during
    // a flood, the decision needs no warm-up (a late one leaves a tenth of a second of keys unprotected).
    const load = this.loadThreshold > 0 ? this.#load.busyFraction(now) : 1;
    if (now - this.#lastTypedAt > this.windowMs) return false;
    let othersTyping = false;
    for (const [typist, at] of this.#typedAt) {
      if (now - at > this.windowMs) this.#typedAt.delete(typist);
      else if (typist !== session) othersTyping = true;
    }
    if (!othersTyping) return false;
    // Once paced, a flood no longer loads the CPU, so the load decides only until the typing stops.
    this.#contended ||= load >= this.loadThreshold;
    return this.#contended;
  }

  forget(session: object): void {
    this.#typedAt.delete(session);
  }

  /** Releases what the load gauge keeps open (the relay is closing). */
  dispose(): void {
    this.#load.dispose?.();
  }
}

/** How busy things are: the larger of the host CPUs' busy share and the relay's event-loop utilization. */
export interface LoadGauge {
  /** 0–1, over the last measured interval (about 100 ms); 0 until one has been measured. */
  busyFraction(now: number): number;
  dispose?(): void;
}

/** A measurement spans at least this long, and a baseline older than the stale limit is taken afresh. */
const LOAD_SAMPLE_MIN_MS = 100;
const LOAD_SAMPLE_STALE_MS = 1_000;

/**
 * Samples the host's CPU times and the event loop lazily, at most every 100 ms and only when asked (no timer of its
 * own). It is asked on every output chunk, an echo's included, so a sample must be cheap (see HostCpuTimes).
 */
export class HostLoadGauge implements LoadGauge {
  readonly #cpuTimes = new HostCpuTimes();
  #baseline: { at: number; busy: number; total: number; loop: EventLoopUtilization } | undefined;
  #last = 0;

  busyFraction(now: number): number {
    const baseline = this.#baseline;
    if (!baseline || now - baseline.at > LOAD_SAMPLE_STALE_MS) {
      this.#baseline = this.#sample(now);
      this.#last = 0;
      return 0;
    }
    if (now - baseline.at < LOAD_SAMPLE_MIN_MS) return this.#last;
    const current = this.#sample(now);
    const total = current.total - baseline.total;
    const cpu = total > 0 ? (current.busy - baseline.busy) / total : 0;
    const loop = performance.eventLoopUtilization(current.loop, baseline.loop).utilization;
    this.#baseline = current;
    this.#last = Math.max(cpu, loop);
    return this.#last;
  }

  dispose(): void {
    this.#cpuTimes.close();
  }

  #sample(at: number) {
    return { at, ...this.#cpuTimes.read(), loop: performance.eventLoopUtilization() };
  }
}

/** Output a paced session may still send at once, on top of its rate. */
export const PACING_BURST_BYTES = 64 * 1024;

/** One session's token bucket against a `TypingPriority`. */
export class OutputPacer {
  #credit = PACING_BURST_BYTES;
  #creditAt = 0;

  constructor(
    readonly priority: TypingPriority,
    readonly session: object,
  ) {}

  /** Spends `bytes`; returns how many ms the session should now wait before more output (0: none). */
  spend(bytes: number, now = performance.now()): number {
    if (!this.priority.paces(this.session, now)) {
      this.#credit = PACING_BURST_BYTES;
      this.#creditAt = now;
      return 0;
    }
    const rate = this.priority.bytesPerSecond / 1000;
    this.#credit = Math.min(PACING_BURST_BYTES, this.#credit + (now - this.#creditAt) * rate) - bytes;
    this.#creditAt = now;
    return this.#credit >= 0 ? 0 : -this.#credit / rate;
  }
}
