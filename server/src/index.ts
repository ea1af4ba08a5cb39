export { createRelay } from './relay.ts';
export type { Relay, RelayOptions } from './relay.ts';
export { DEFAULT_LIMITS, DEFAULT_IDLE_TIMEOUT_MS, MIN_IDLE_TIMEOUT_MS } from './limits.ts';
export type { RelayLimits } from './limits.ts';
export type { SandboxBackend, SandboxInstance, SandboxSpec } from './sandbox/backend.ts';
export { BubblewrapBackend } from './sandbox/bubblewrap.ts';
export { UnisolatedBackend } from './sandbox/unisolated.ts';
export { RelayError } from './errors.ts';
