export { getSandbox, Sandbox } from './sandbox.ts';
export type { SandboxOptions, CreateSessionOptions, ExecOptions, ReadFileOptions, TerminalUrlOptions } from './sandbox.ts';
export { SandboxError } from './errors.ts';
export type {
  ErrorCode,
  ExecResult,
  ExecStreamEvent,
  FileEntry,
  SessionInfo,
  SessionStatus,
} from '@sandbox-terminal/protocol';
