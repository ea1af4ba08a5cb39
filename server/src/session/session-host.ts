import type { RecreationReason } from '@sandbox-terminal/protocol';
import type { RelayLimits } from '../limits.ts';
import type { SandboxInstance } from '../sandbox/backend.ts';
import type { ScreenSnapshot } from './screen-mirror.ts';
import type { ShellSession } from './shell-session.ts';
import type { TypingPriority } from './typing-priority.ts';

/** What a session needs from its sandbox: the seam that unit tests fake. */
export interface SessionHost {
  readonly sandboxId: string;
  readonly limits: RelayLimits;
  /** The relay's typing priority: this session's keystrokes pace the others' output, and theirs pace this one's. */
  readonly typingPriority?: TypingPriority;
  /** Host directory for this session's control files. */
  controlDirFor(sessionId: string): string;
  /** Starts the sandbox if needed. */
  ensureRunning(): Promise<SandboxInstance>;
  touch(): void;
  /** The session's record changed (status, cwd, env): persist it. Resolves once it is saved (never rejects). */
  persist(session: ShellSession): Promise<void>;
  /** True when the sandbox itself has ended (its processes were killed), not just this shell. */
  sandboxEnded(): boolean;
}

export interface SessionInit {
  id: string;
  cwd: string;
  env: Record<string, string>;
  createdAt?: Date;
  /** A session loaded from its record: asleep (and why its next start is a recreation), or exited. */
  rest?: { status: 'sleeping'; reason: RecreationReason } | { status: 'exited'; exitCode: number; signal?: number };
  screen?: ScreenSnapshot;
  cols?: number;
  rows?: number;
}
