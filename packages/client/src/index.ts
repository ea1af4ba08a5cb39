export { getSandbox, Sandbox } from './sandbox.ts';
export type { SandboxOptions, CreateSessionOptions, ExecOptions, ReadFileOptions, TerminalUrlOptions } from './sandbox.ts';
export { SandboxError } from './errors.ts';
export { GuestAccess, requestGuestGrant, renewGuestToken, GUEST_TOKEN_RENEW_MARGIN_MS } from './guest.ts';
export type { GuestAccessOptions, GuestCredentials, GuestStore } from './guest.ts';
export type {
  ErrorCode,
  ExecResult,
  ExecStreamEvent,
  CreateSandboxResponse,
  GuestGrant,
  GuestTokenResponse,
  FileEntry,
  SessionInfo,
  SessionStatus,
} from '@sandbox-terminal/protocol';
