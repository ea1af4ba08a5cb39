/**
 * Every limit and timeout of the relay, with its default. Each can be overridden through `RelayOptions.limits`.
 * Exceeding one yields a typed `LIMIT_EXCEEDED` error naming it, never a crash.
 */
export interface RelayLimits {
  /** Bytes kept per stream (stdout, stderr) of one exec; the rest is drained and dropped, `truncated` is set. */
  execOutputBytes: number;
  /** Longest command text accepted by exec. */
  commandBytes: number;
  /** Largest JSON request body. */
  jsonBodyBytes: number;
  /**
   * Most JSON values (array elements, object entries) one request body may hold; counted as it arrives and refused
   * before it is parsed, since parsing costs per value (1.5 M entries held the event loop for ~1 s).
   */
  jsonBodyValues: number;
  /** Most environment variables one createSession or exec call may set. */
  envEntries: number;
  /**
   * Most bytes those variables may take (name, `=`, value and a NUL each). Below Linux's 128 KiB for one variable and
   * its ~2 MiB for a whole environment, so a process the relay starts is never refused with E2BIG.
   */
  envBytes: number;
  /** Largest file accepted by writeFile or returned by readFile. */
  fileBytes: number;
  /** Entries one listFiles call returns at most; a larger directory is refused (LIMIT_EXCEEDED) rather than read whole. */
  listEntries: number;
  /** Largest WebSocket message (terminal input or control frame). */
  terminalMessageBytes: number;
  /**
   * Input from viewers (keystrokes, pastes) the relay holds for one session while the program in its terminal does
   * not read it: the PTY's own buffer takes ~64 KiB, this is what waits beyond. A frame that would pass it is refused
   * whole with LIMIT_EXCEEDED; what was taken reaches the program, in order, once it reads.
   */
  terminalInputPendingBytes: number;
  /** Terminal output kept per session so a reconnecting viewer resumes exactly where it stopped. */
  outputLogBytes: number;
  /** Pause reading the PTY when the slowest active viewer is this far behind (unacknowledged bytes). */
  flowHighWatermarkBytes: number;
  /** Resume reading the PTY when every active viewer is less than this far behind. */
  flowLowWatermarkBytes: number;
  /** A viewer above the high watermark this long stops holding the PTY back and is later sent the screen instead. */
  slowViewerGraceMs: number;
  /** A viewer that has not drained its backlog for this long is disconnected (close code 4429). */
  stalledViewerCloseMs: number;
  /**
   * Most output the relay holds for one viewer (sent and not acknowledged, or queued on its socket), PTY and exec
   * output alike. Output that would take a viewer past it is not sent to it: it gets the screen once it has drained,
   * or is closed after `stalledViewerCloseMs`. Bounds the relay's memory per viewer whatever the viewer does.
   */
  viewerBacklogBytes: number;
  /** After an abnormal disconnect, the viewer's position still counts for flow control this long (so a quick reconnect loses nothing). */
  reconnectGraceMs: number;
  /**
   * While someone types in one session, every other session of the relay may put out at most this many bytes per
   * second (a 64 KiB burst on top), so a flood elsewhere cannot starve the echo of the CPU. Nothing is dropped: the
   * PTY is read later. 0 turns the pacing off.
   */
  bulkOutputBytesPerSecond: number;
  /** How long after a keystroke the other sessions stay paced (`bulkOutputBytesPerSecond`). */
  typingWindowMs: number;
  /**
   * Pacing starts only when the host's CPUs or the relay's event loop are at least this busy (0–1) while someone
   * types; 0 paces whenever someone types.
   */
  bulkOutputPacingLoad: number;
  /** Sandboxes running (or starting) at once on this relay; sleeping ones do not count. Starting one more is refused. */
  sandboxesPerRelay: number;
  /**
   * Messages (frames of any kind) one terminal connection may send per second, as a token bucket of this size refilled
   * at this rate. Excess frames are dropped and answered with at most one LIMIT_EXCEEDED error a second; the connection
   * stays open.
   */
  terminalMessagesPerSecond: number;
  /**
   * HTTP requests one client address may make per second (token bucket of this size); over it: 429 with
   * LIMIT_EXCEEDED. `/healthz` and `/metrics` do not count. 0 turns it off (e.g. behind a proxy that limits instead).
   */
  httpRequestsPerSecond: number;
  /**
   * Processes (and threads) one sandbox runs at once, all sessions and commands together: a cgroup `pids.max`
   * (bubblewrap backend on hosts with cgroup v1). A fork over it fails inside the sandbox (EAGAIN); the relay goes on.
   */
  sandboxProcesses: number;
  /**
   * Memory one sandbox uses at once, page cache included: a cgroup `memory.limit_in_bytes` (bubblewrap backend, cgroup
   * v1). Over it the kernel's OOM killer ends a process of that sandbox, not of the relay or another sandbox.
   */
  sandboxMemoryBytes: number;
  /**
   * CPU one sandbox may use, in cores (0.5 = half a core), all its processes together: a cgroup v1 CFS quota. Over it
   * the sandbox's processes are throttled, not killed.
   */
  sandboxCpuCores: number;
  /**
   * Size of each sandbox's `/tmp`, a tmpfs of its own (its pages also count against `sandboxMemoryBytes`). Over it a
   * write inside fails with ENOSPC (`No space left on device`); other sandboxes and the relay's disk are untouched.
   */
  sandboxTmpBytes: number;
  /**
   * Size of each sandbox's `/workspace`; 0 (the default) keeps it a directory on the data disk, bounded only by that
   * disk. Otherwise it is a volume of its own (a sparse ext4 image, loop-mounted); over it ENOSPC inside and
   * `NO_SPACE` from the files API, and nothing elsewhere. Guest sandboxes have `guestWorkspaceBytes`.
   */
  sandboxWorkspaceBytes: number;
  /**
   * Upload bytes (writeFile bodies) the relay accepts at once, all clients together: each upload reserves its
   * `Content-Length` (or `fileBytes` when it sends none) until it ends. Over it: 429 LIMIT_EXCEEDED, try again later.
   */
  uploadBytesInFlight: number;
  /** The same for one client address (so one client cannot take every slot). */
  uploadBytesInFlightPerClient: number;
  /** Sessions one sandbox may hold (active, sleeping or exited). */
  sessionsPerSandbox: number;
  /** Viewers attached to one session at once. */
  viewersPerSession: number;
  /** How long a new shell may take to show its first prompt. */
  shellStartTimeoutMs: number;
  /** After a timed-out command was interrupted, how long before its processes are killed outright. */
  killEscalationMs: number;
  /** How long the session registry keeps a session record that nobody touches. */
  sessionRecordTtlMs: number;
  /**
   * Relays sharing Redis: how long a sandbox's lease outlives its holder's last renewal (renewed three times per period
   * while held). A relay that dies is replaced for its sandboxes this long after; one that cannot renew in time stops
   * them. Longer survives longer stalls (a busy host, a slow Redis) without a takeover; shorter fails over faster.
   */
  sandboxLeaseMs: number;
  /**
   * Relays sharing Redis: a forwarded call's body up to this size is read before it is sent on, so that the call can
   * be sent to another relay when the owner turns out to be gone or moving; bigger bodies are streamed, and such a
   * call fails with SANDBOX_UNAVAILABLE in that case.
   */
  forwardReplayBytes: number;
  /**
   * Relays sharing Redis: the screen of an active session whose output moved is saved this often, so that a relay
   * that dies leaves a screen for the relay that takes over (at most this much output is missing from it). 0: never.
   */
  screenCheckpointMs: number;
  /** On SIGTERM, calls already running may finish for this long before sessions are saved and sandboxes stopped. */
  drainTimeoutMs: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  execOutputBytes: 10 * 1024 * 1024,
  commandBytes: 1024 * 1024,
  jsonBodyBytes: 32 * 1024 * 1024,
  jsonBodyValues: 10_000,
  envEntries: 1_024,
  envBytes: 64 * 1024,
  fileBytes: 100 * 1024 * 1024,
  listEntries: 10_000,
  terminalMessageBytes: 1024 * 1024,
  terminalInputPendingBytes: 4 * 1024 * 1024,
  outputLogBytes: 4 * 1024 * 1024,
  flowHighWatermarkBytes: 2 * 1024 * 1024,
  flowLowWatermarkBytes: 1024 * 1024,
  slowViewerGraceMs: 2_000,
  stalledViewerCloseMs: 30_000,
  viewerBacklogBytes: 8 * 1024 * 1024,
  reconnectGraceMs: 3_000,
  bulkOutputBytesPerSecond: 1024 * 1024,
  typingWindowMs: 1_000,
  bulkOutputPacingLoad: 0.85,
  sandboxesPerRelay: 64,
  terminalMessagesPerSecond: 1_000,
  httpRequestsPerSecond: 2_000,
  sandboxProcesses: 512,
  sandboxMemoryBytes: 2 * 1024 * 1024 * 1024,
  sandboxCpuCores: 1,
  sandboxTmpBytes: 512 * 1024 * 1024,
  sandboxWorkspaceBytes: 0,
  uploadBytesInFlight: 1024 * 1024 * 1024,
  uploadBytesInFlightPerClient: 256 * 1024 * 1024,
  sessionsPerSandbox: 64,
  viewersPerSession: 16,
  shellStartTimeoutMs: 10_000,
  killEscalationMs: 1_000,
  sessionRecordTtlMs: 7 * 24 * 60 * 60 * 1000,
  sandboxLeaseMs: 5_000,
  forwardReplayBytes: 1024 * 1024,
  screenCheckpointMs: 5_000,
  drainTimeoutMs: 10_000,
};

/** Idle time after which a sandbox sleeps, by default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
/** Shortest idle timeout accepted (tests use it). */
export const MIN_IDLE_TIMEOUT_MS = 1_000;

/**
 * What a guest sandbox (`sandbox-relay --guest`: a reader without a login, e.g. on a static docs site) may use. They
 * replace the relay-wide values for guest sandboxes only; sandboxes of token holders keep `RelayLimits`. Exceeding a
 * count is a typed `LIMIT_EXCEEDED` naming the limit; the resource limits are the kernel's (see SECURITY.md).
 */
export interface GuestLimits {
  /** Guest sandboxes one client address may hold at once (alive: not yet past their lifetime). */
  guestSandboxesPerAddress: number;
  /** Guest sandboxes the relay holds at once, all addresses together (each keeps a workspace on disk). */
  guestSandboxesPerRelay: number;
  /** A guest sandbox is deleted, workspace and sessions, this long after it was granted. Renewals stop then. */
  guestSandboxLifetimeMs: number;
  /** A guest sandbox sleeps after this long without activity (the relay-wide idle timeout applies when shorter). */
  guestIdleTimeoutMs: number;
  /** Lifetime of one guest access token; the page renews it with its renewal token (the element's `getToken`). */
  guestTokenTtlMs: number;
  /** Sessions one guest sandbox may hold (`sessionsPerSandbox` for guests). */
  guestSessionsPerSandbox: number;
  /** Processes and threads at once (`sandboxProcesses` for guests). */
  guestProcesses: number;
  /** Memory, page cache included (`sandboxMemoryBytes` for guests). */
  guestMemoryBytes: number;
  /** CPU in cores (`sandboxCpuCores` for guests). */
  guestCpuCores: number;
  /** Size of the guest sandbox's `/tmp` (`sandboxTmpBytes` for guests). */
  guestTmpBytes: number;
  /**
   * Size of the guest sandbox's `/workspace` (`SandboxResources.workspaceBytes`, enforced by the backend); a template
   * larger than this cannot be a guest template (the relay refuses to start).
   */
  guestWorkspaceBytes: number;
}

export const DEFAULT_GUEST_LIMITS: GuestLimits = {
  guestSandboxesPerAddress: 3,
  guestSandboxesPerRelay: 200,
  guestSandboxLifetimeMs: 2 * 60 * 60 * 1000,
  guestIdleTimeoutMs: 5 * 60 * 1000,
  guestTokenTtlMs: 15 * 60 * 1000,
  guestSessionsPerSandbox: 8,
  guestProcesses: 128,
  guestMemoryBytes: 512 * 1024 * 1024,
  guestCpuCores: 0.5,
  guestTmpBytes: 64 * 1024 * 1024,
  guestWorkspaceBytes: 256 * 1024 * 1024,
};
