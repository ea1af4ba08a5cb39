export { createRelay } from './relay.ts';
export type { Relay, RelayOptions } from './relay.ts';
export { DEFAULT_LIMITS, DEFAULT_GUEST_LIMITS, DEFAULT_IDLE_TIMEOUT_MS, MIN_IDLE_TIMEOUT_MS } from './limits.ts';
export type { RelayLimits, GuestLimits } from './limits.ts';
export type { GuestOptions } from './guest/guest-options.ts';
export type { SandboxBackend, SandboxInstance, SandboxSpec } from './sandbox/backend.ts';
export { BubblewrapBackend } from './sandbox/bubblewrap.ts';
export { UnisolatedBackend } from './sandbox/unisolated.ts';
export { RelayError } from './errors.ts';
export { issueToken, MIN_SECRET_BYTES } from './auth.ts';
export type { IssueTokenOptions } from './auth.ts';
// Types a library user meets through `Relay` (`relay.metrics`, `relay.pool`); made by createRelay, not by hand.
export type { RelayMetrics, ExecKind, ExecOutcome } from './metrics.ts';
export type { SandboxPool } from './sandbox/sandbox-pool.ts';
export type { SandboxRuntime } from './sandbox/sandbox-runtime.ts';
export type { ShellSession } from './session/shell-session.ts';
export type { ErrorCode, TokenScope } from '@sandbox-terminal/protocol';
