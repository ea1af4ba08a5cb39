import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExecResult, RecreationReason } from '@sandbox-terminal/protocol';

/** What the gauges read from each sandbox at scrape time (a `SandboxRuntime`, seen from here). */
export interface MeteredSandbox {
  readonly running: boolean;
  sessionList(): readonly { readonly status: string; readonly viewerCount: number }[];
}

export type ExecKind = 'session' | 'one_shot';
/** `ok`: exit code 0; `failed`: another exit code; `timeout`: stopped by its timeout; `error`: no result (refused, session not found, sandbox failed to start…). */
export type ExecOutcome = 'ok' | 'failed' | 'timeout' | 'error';

const PREFIX = 'sandbox_relay_';
const SESSION_STATUSES = ['starting', 'active', 'sleeping', 'exited'] as const;
/** Execs range from an `echo` (milliseconds) to builds and test runs (minutes). */
const EXEC_DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The relay's Prometheus metrics, in a registry of its own (not prom-client's global one), so several relays in one
 * process (tests, or an app mounting two) never collide. Gauges are read from the pool when scraped; only the
 * counters are pushed, and a terminal chunk costs one increment.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  readonly #terminalOutputBytes: Counter;
  readonly #terminalInputBytes: Counter;
  readonly #sleeps: Counter;
  readonly #recreations: Counter<'reason'>;
  readonly #execs: Counter<'kind' | 'outcome'>;
  readonly #execDuration: Histogram<'kind'>;

  readonly #forwarded: Counter<'kind' | 'outcome'>;
  readonly #forwardedBytes: Counter<'kind' | 'direction'>;
  readonly #leaseTakeovers: Counter;
  readonly #leasesLost: Counter<'why'>;

  /**
   * `runtimes` is read at scrape time; it may refer to a pool built after this object. `owned` counts the sandbox
   * leases this relay holds (several relays sharing Redis); without it the gauge reads 0.
   */
  constructor(runtimes: () => readonly MeteredSandbox[], owned: () => number = () => 0) {
    const registers = [this.registry];
    new Gauge({
      name: `${PREFIX}sandboxes`,
      help: 'Sandboxes this relay knows (running or asleep).',
      registers,
      collect() {
        this.set(runtimes().length);
      },
    });
    new Gauge({
      name: `${PREFIX}sandboxes_running`,
      help: 'Sandboxes with running processes (awake).',
      registers,
      collect() {
        this.set(runtimes().filter((runtime) => runtime.running).length);
      },
    });
    new Gauge({
      name: `${PREFIX}sessions`,
      help: 'Sessions this relay holds, by status (records only in the registry are not counted until used).',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = new Map<string, number>(SESSION_STATUSES.map((status) => [status, 0]));
        for (const runtime of runtimes()) {
          for (const session of runtime.sessionList()) counts.set(session.status, (counts.get(session.status) ?? 0) + 1);
        }
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    new Gauge({
      name: `${PREFIX}viewers`,
      help: 'Terminal WebSockets attached to a session.',
      registers,
      collect() {
        let viewers = 0;
        for (const runtime of runtimes()) for (const session of runtime.sessionList()) viewers += session.viewerCount;
        this.set(viewers);
      },
    });
    new Gauge({
      name: `${PREFIX}sandboxes_owned`,
      help: 'Sandbox leases this relay holds (relays sharing Redis): sandboxes it runs, or has in use, and no other relay may.',
      registers,
      collect() {
        this.set(owned());
      },
    });
    this.#forwarded = new Counter({
      name: `${PREFIX}forwarded_requests_total`,
      help: 'Calls passed to the relay that owns their sandbox, by kind (http, websocket) and outcome (ok; unreachable, misdirected: placed again).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#forwardedBytes = new Counter({
      name: `${PREFIX}forwarded_bytes_total`,
      help: 'Bytes on connections to owner relays, headers included, by kind and direction (to_owner, from_owner).',
      labelNames: ['kind', 'direction'],
      registers,
    });
    this.#leaseTakeovers = new Counter({
      name: `${PREFIX}lease_takeovers_total`,
      help: 'Sandbox leases this relay took from a relay that never let go of them (it died, or lost Redis): failovers.',
      registers,
    });
    this.#leasesLost = new Counter({
      name: `${PREFIX}leases_lost_total`,
      help: 'Leases of sandboxes in use here that this relay lost (why: taken by another relay, unconfirmed for a whole lease period); the sandbox was stopped here.',
      labelNames: ['why'],
      registers,
    });
    this.#terminalOutputBytes = new Counter({
      name: `${PREFIX}terminal_output_bytes_total`,
      help: 'Terminal output bytes sent to viewers (each viewer counted; replays included).',
      registers,
    });
    this.#terminalInputBytes = new Counter({
      name: `${PREFIX}terminal_input_bytes_total`,
      help: 'Terminal input bytes received from viewers and written to shells.',
      registers,
    });
    this.#sleeps = new Counter({ name: `${PREFIX}sandbox_sleeps_total`, help: 'Times a running sandbox was put to sleep (idle, requested, or relay closing).', registers });
    this.#recreations = new Counter({
      name: `${PREFIX}session_recreations_total`,
      help: 'Sessions started again with their saved cwd and env, by reason: slept, relay-restarted, sandbox-stopped.',
      labelNames: ['reason'],
      registers,
    });
    this.#execs = new Counter({ name: `${PREFIX}execs_total`, help: 'Exec calls by kind and outcome.', labelNames: ['kind', 'outcome'], registers });
    this.#execDuration = new Histogram({
      name: `${PREFIX}exec_duration_seconds`,
      help: 'Exec calls from request to result, including queueing behind other commands and waking the sandbox.',
      labelNames: ['kind'],
      buckets: EXEC_DURATION_BUCKETS_SECONDS,
      registers,
    });
  }

  terminalOutput(bytes: number): void {
    this.#terminalOutputBytes.inc(bytes);
  }

  terminalInput(bytes: number): void {
    this.#terminalInputBytes.inc(bytes);
  }

  sandboxSlept(): void {
    this.#sleeps.inc();
  }

  sessionRecreated(reason: RecreationReason): void {
    this.#recreations.inc({ reason });
  }

  forwarded(kind: 'http' | 'websocket', outcome: 'ok' | 'unreachable' | 'misdirected'): void {
    this.#forwarded.inc({ kind, outcome });
  }

  forwardedBytes(kind: 'http' | 'websocket', toOwner: number, fromOwner: number): void {
    if (toOwner > 0) this.#forwardedBytes.inc({ kind, direction: 'to_owner' }, toOwner);
    if (fromOwner > 0) this.#forwardedBytes.inc({ kind, direction: 'from_owner' }, fromOwner);
  }

  leaseTakeover(): void {
    this.#leaseTakeovers.inc();
  }

  leaseLost(why: 'taken' | 'unconfirmed'): void {
    this.#leasesLost.inc({ why });
  }

  /** Starts timing an exec; call the returned function with its result, or with nothing when it failed. */
  execStarted(kind: ExecKind): (result?: ExecResult) => void {
    const stopTimer = this.#execDuration.startTimer({ kind });
    return (result) => {
      stopTimer();
      const outcome: ExecOutcome = !result ? 'error' : result.timedOut ? 'timeout' : result.exitCode === 0 ? 'ok' : 'failed';
      this.#execs.inc({ kind, outcome });
    };
  }

  /** The exposition text for a scrape. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
