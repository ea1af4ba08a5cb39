import type { RecreationReason } from '@sandbox-terminal/protocol';

/** A session's shell was started again under the same id, its saved cwd and exported env restored. */
export interface Recreation {
  reason: RecreationReason;
  cwd: string;
  /** Names of the exported variables restored. */
  restoredEnv: string[];
}

const WHAT_HAPPENED: Record<RecreationReason, string> = {
  slept: 'sandbox was asleep',
  'relay-restarted': 'the relay restarted',
  'relay-failed-over': 'the relay that ran this session stopped and another took over',
  'sandbox-stopped': 'the sandbox was stopped',
};

/** The dim line a recreated session's terminal shows between the old output and the new prompt. */
export function recreationNotice(recreation: Recreation): string {
  return `${WHAT_HAPPENED[recreation.reason]}: session restored in ${recreation.cwd}`;
}
