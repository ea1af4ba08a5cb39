import type { Logger } from 'pino';
import type { RelayAuth } from '../auth.ts';
import { DEFAULT_GUEST_LIMITS, type GuestLimits, type RelayLimits } from '../limits.ts';
import type { WorkspaceTemplates } from '../sandbox/workspace-templates.ts';
import { GuestSandboxes } from './guest-sandboxes.ts';

/** `RelayOptions.guest` as an object: guest mode with these limits and network setting. */
export interface GuestOptions {
  limits?: Partial<GuestLimits>;
  /** Whether guest sandboxes reach the network. Default false: a stranger's code gets loopback only. */
  network?: boolean;
}

/**
 * Guest mode's start-up checks and records, or undefined when it is off. It needs the secret (tokens are what bind a
 * reader to its sandbox), and every template must fit in a guest workspace.
 */
export async function loadGuestSandboxes(
  guest: boolean | GuestOptions | undefined,
  auth: RelayAuth,
  dataDir: string,
  relayLimits: RelayLimits,
  templates: WorkspaceTemplates,
  log: Logger,
): Promise<GuestSandboxes | undefined> {
  if (!guest) return undefined;
  if (!auth.enabled) throw new Error('guest mode needs a secret (--secret / RELAY_SECRET): guest tokens are signed with it');
  const options = typeof guest === 'object' ? guest : {};
  const limits: GuestLimits = { ...DEFAULT_GUEST_LIMITS, ...options.limits };
  for (const name of templates.names) {
    const bytes = templates.sizeBytes(name);
    if (bytes > limits.guestWorkspaceBytes) throw new Error(`template ${name} holds ${bytes} bytes, more than guestWorkspaceBytes (${limits.guestWorkspaceBytes}): guests could not start from it`);
  }
  const network = options.network ?? false;
  if (network) log.warn('guest sandboxes reach the network (guest network on): strangers can send traffic from this host');
  log.info({ limits, network }, 'guest mode on: pages without a token get a sandbox of their own');
  return GuestSandboxes.load(dataDir, limits, relayLimits, network, log);
}
