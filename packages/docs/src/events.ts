import type { BlockKind } from './block-spec.ts';
import type { SetupProgress } from './docs-session.ts';

/** `sandbox-run-start`, on the block: a block began to run (after any setup). */
export interface SandboxRunStartDetail {
  step: string;
  kind: BlockKind;
}

/** `sandbox-run`, on the block: a block finished (a file block: it was written, exit code 0). */
export interface SandboxRunDetail {
  step: string;
  kind: BlockKind;
  exitCode: number;
  success: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** `sandbox-check`, on the block: its step check ran; `passed` when the check command exited 0. */
export interface SandboxCheckDetail {
  step: string;
  passed: boolean;
  exitCode: number;
}

/** `sandbox-setup`, on the document: setup progress before the first block. */
export type SandboxSetupDetail = SetupProgress;

/** `sandbox-reset`, on the document: the reader got a fresh sandbox. */
export interface SandboxResetDetail {
  sandbox: string;
  sessionId: string;
}

declare global {
  interface HTMLElementEventMap {
    'sandbox-run-start': CustomEvent<SandboxRunStartDetail>;
    'sandbox-run': CustomEvent<SandboxRunDetail>;
    'sandbox-check': CustomEvent<SandboxCheckDetail>;
    'sandbox-setup': CustomEvent<SandboxSetupDetail>;
    'sandbox-reset': CustomEvent<SandboxResetDetail>;
  }
  interface DocumentEventMap {
    'sandbox-run-start': CustomEvent<SandboxRunStartDetail>;
    'sandbox-run': CustomEvent<SandboxRunDetail>;
    'sandbox-check': CustomEvent<SandboxCheckDetail>;
    'sandbox-setup': CustomEvent<SandboxSetupDetail>;
    'sandbox-reset': CustomEvent<SandboxResetDetail>;
  }
}

/** Every docs event bubbles and crosses shadow roots, so a tutorial can listen on `document`. */
export function emitDocsEvent<K extends keyof DocumentEventMap>(
  target: EventTarget,
  type: K,
  detail: DocumentEventMap[K] extends CustomEvent<infer D> ? D : never,
): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
