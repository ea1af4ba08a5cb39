import type { GuestCredentials, GuestStore } from '@sandbox-terminal/client';

/**
 * What the browser remembers for a docs site, in `localStorage` (shared by every page and tab of the site, so the
 * session survives navigation and reloads). Unreadable entries count as absent; refused writes (private modes, a full
 * quota) leave the page working, without the memory.
 */
const PREFIX = 'sandbox-terminal-docs:';

export interface SessionMemory {
  relay: string;
  sandbox: string;
  sessionId: string;
}

export interface DockMemory {
  open: boolean;
  heightPx: number;
}

export class SiteMemory {
  constructor(readonly siteKey: string) {}

  readSession(): SessionMemory | undefined {
    const value = this.#read('session');
    return isRecord(value) && typeof value.relay === 'string' && typeof value.sandbox === 'string' && typeof value.sessionId === 'string'
      ? { relay: value.relay, sandbox: value.sandbox, sessionId: value.sessionId }
      : undefined;
  }

  writeSession(memory: SessionMemory | undefined): void {
    this.#write('session', memory);
  }

  readDock(): DockMemory | undefined {
    const value = this.#read('dock');
    return isRecord(value) && typeof value.open === 'boolean' && typeof value.heightPx === 'number' ? { open: value.open, heightPx: value.heightPx } : undefined;
  }

  writeDock(memory: DockMemory): void {
    this.#write('dock', memory);
  }

  /** Where `GuestAccess` keeps the guest sandbox's credentials for this site. */
  guestStore(): GuestStore {
    return {
      load: () => {
        const value = this.#read('guest');
        return isRecord(value) && typeof value.sandbox === 'string' && typeof value.renewal === 'string' ? (value as unknown as GuestCredentials) : undefined;
      },
      save: (credentials) => this.#write('guest', credentials),
      clear: () => this.#write('guest', undefined),
    };
  }

  #read(kind: string): unknown {
    try {
      const raw = globalThis.localStorage?.getItem(`${PREFIX}${kind}:${this.siteKey}`);
      return raw ? (JSON.parse(raw) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  #write(kind: string, value: unknown): void {
    try {
      const key = `${PREFIX}${kind}:${this.siteKey}`;
      if (value === undefined) globalThis.localStorage?.removeItem(key);
      else globalThis.localStorage?.setItem(key, JSON.stringify(value));
    } catch {
      // refused: see above
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
