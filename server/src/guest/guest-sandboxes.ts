import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ID_PATTERN } from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { limitExceeded } from '../errors.ts';
import type { GuestLimits, RelayLimits } from '../limits.ts';
import type { SandboxSettings } from '../sandbox/sandbox-pool.ts';

/** The relay's record of a guest sandbox, kept beside its workspace (out of the sandbox's reach). */
const GUEST_NOTE = 'guest.json';
const guestNote = z.object({
  sandbox: z.string().regex(ID_PATTERN),
  address: z.string(),
  createdAtMs: z.number(),
  expiresAtMs: z.number(),
  template: z.string().nullable(),
});
export type GuestRecord = z.infer<typeof guestNote>;

/** Guest sandbox ids: chosen by the relay, never by the page. */
const GUEST_ID_PREFIX = 'guest-';

/**
 * Every guest sandbox of this relay: who was granted it (client address), when it ends, and the limits, network and
 * profile it runs with. The record outlives a reset of its sandbox, so a guest keeps guest limits for the whole
 * lifetime; it is read back at start, so a relay restart changes nothing.
 */
export class GuestSandboxes {
  readonly #records = new Map<string, GuestRecord>();

  private constructor(
    private readonly sandboxesDir: string,
    readonly limits: GuestLimits,
    private readonly relayLimits: RelayLimits,
    private readonly network: boolean,
  ) {}

  static async load(dataDir: string, limits: GuestLimits, relayLimits: RelayLimits, network: boolean, log: Logger): Promise<GuestSandboxes> {
    const guests = new GuestSandboxes(join(dataDir, 'sandboxes'), limits, relayLimits, network);
    const ids = await readdir(guests.sandboxesDir).catch(() => [] as string[]);
    for (const id of ids.filter((name) => name.startsWith(GUEST_ID_PREFIX))) {
      const text = await readFile(join(guests.sandboxesDir, id, GUEST_NOTE), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const parsed = guestNote.safeParse(safeJson(text));
      if (parsed.success && parsed.data.sandbox === id) guests.#records.set(id, parsed.data);
      else log.warn({ sandbox: id }, 'unreadable guest record: the sandbox is not treated as a guest sandbox');
    }
    return guests;
  }

  /** A fresh guest sandbox for `address`, or LIMIT_EXCEEDED (per address, per relay). */
  async grant(address: string, template: string | null, now = Date.now()): Promise<GuestRecord> {
    const alive = [...this.#records.values()].filter((record) => record.expiresAtMs > now);
    if (alive.length >= this.limits.guestSandboxesPerRelay) {
      throw limitExceeded('guestSandboxesPerRelay', this.limits.guestSandboxesPerRelay, 'this relay holds as many guest sandboxes as it may; try again later');
    }
    const mine = alive.filter((record) => record.address === address).length;
    if (mine >= this.limits.guestSandboxesPerAddress) {
      throw limitExceeded('guestSandboxesPerAddress', this.limits.guestSandboxesPerAddress, `this address already holds ${mine} guest sandboxes; they end ${this.limits.guestSandboxLifetimeMs / 60_000} minutes after they were granted`);
    }
    const record: GuestRecord = {
      sandbox: `${GUEST_ID_PREFIX}${randomUUID()}`,
      address,
      createdAtMs: now,
      expiresAtMs: now + this.limits.guestSandboxLifetimeMs,
      template,
    };
    // Counted from now on, before the first await: concurrent grants cannot all pass the checks above.
    this.#records.set(record.sandbox, record);
    try {
      const dir = join(this.sandboxesDir, record.sandbox);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, GUEST_NOTE), JSON.stringify(record), { mode: 0o600 });
    } catch (error) {
      this.#records.delete(record.sandbox);
      throw error;
    }
    return record;
  }

  /** The guest record of a live guest sandbox; undefined for other sandboxes and for ended ones. */
  alive(sandbox: string, now = Date.now()): GuestRecord | undefined {
    const record = this.#records.get(sandbox);
    return record && record.expiresAtMs > now ? record : undefined;
  }

  /** Records past their lifetime, for the reaper. */
  expired(now = Date.now()): GuestRecord[] {
    return [...this.#records.values()].filter((record) => record.expiresAtMs <= now);
  }

  forget(sandbox: string): void {
    this.#records.delete(sandbox);
  }

  /** What a guest sandbox runs with instead of the relay-wide settings; undefined for other sandboxes. */
  settingsFor(sandbox: string): SandboxSettings | undefined {
    if (!this.#records.has(sandbox)) return undefined;
    const limits = this.limits;
    return {
      network: this.network,
      limits: {
        ...this.relayLimits,
        sessionsPerSandbox: limits.guestSessionsPerSandbox,
        sandboxProcesses: limits.guestProcesses,
        sandboxMemoryBytes: limits.guestMemoryBytes,
        sandboxCpuCores: limits.guestCpuCores,
        sandboxTmpBytes: limits.guestTmpBytes,
      },
      profile: { idleTimeoutMs: limits.guestIdleTimeoutMs, workspaceBytes: limits.guestWorkspaceBytes },
    };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
