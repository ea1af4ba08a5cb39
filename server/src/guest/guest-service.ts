import type { GuestGrant, GuestTokenResponse } from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import type { RelayAuth } from '../auth.ts';
import { RelayError } from '../errors.ts';
import type { SandboxLifecycle } from '../sandbox/sandbox-lifecycle.ts';
import type { GuestSandboxes } from './guest-sandboxes.ts';

/** The reaper looks for guest sandboxes past their lifetime this often (at most; a tenth of the lifetime when shorter). */
const REAP_EVERY_MS = 60_000;
const MIN_REAP_EVERY_MS = 250;

/**
 * The relay's guest mode (`--guest`): a page without a login asks for a grant and gets a sandbox of its own, with a
 * short-lived access token bound to it and a renewal token for the next ones; a reaper deletes guest sandboxes at the
 * end of their lifetime. Needs the relay secret (the tokens are the only thing that binds a reader to a sandbox).
 */
export class GuestService {
  readonly #reaper: NodeJS.Timeout;
  #reaping: Promise<void> | undefined;

  constructor(
    readonly sandboxes: GuestSandboxes,
    private readonly lifecycle: SandboxLifecycle,
    private readonly auth: RelayAuth,
    private readonly log: Logger,
  ) {
    const everyMs = Math.max(MIN_REAP_EVERY_MS, Math.min(REAP_EVERY_MS, Math.floor(sandboxes.limits.guestSandboxLifetimeMs / 10)));
    this.#reaper = setInterval(() => void this.reap(), everyMs);
    this.#reaper.unref();
  }

  /** A fresh guest sandbox for the client at `address`, from `template` when given. */
  async grant(address: string, template: string | undefined): Promise<GuestGrant> {
    if (template !== undefined) this.lifecycle.templates.require(template);
    const record = await this.sandboxes.grant(address, template ?? null);
    try {
      if (template !== undefined) await this.lifecycle.prepare(record.sandbox, template);
    } catch (error) {
      await this.#remove(record.sandbox);
      throw error;
    }
    const { token, tokenExpiresAtMs } = await this.auth.issueGuestToken(record.sandbox, record.expiresAtMs, this.sandboxes.limits.guestTokenTtlMs);
    const renewal = await this.auth.issueGuestRenewal(record.sandbox, record.expiresAtMs);
    this.log.info({ sandbox: record.sandbox, address, template: record.template }, 'guest sandbox granted');
    return {
      sandbox: record.sandbox,
      token,
      tokenExpiresAt: new Date(tokenExpiresAtMs).toISOString(),
      renewal,
      sandboxExpiresAt: new Date(record.expiresAtMs).toISOString(),
      template: record.template,
    };
  }

  /** A new access token for the guest sandbox the renewal token names; GUEST_EXPIRED once it has ended. */
  async renew(renewalToken: string | undefined): Promise<GuestTokenResponse> {
    const sandbox = await this.auth.verifyGuestRenewal(renewalToken);
    const record = this.sandboxes.alive(sandbox);
    if (!record) throw new RelayError('GUEST_EXPIRED', `guest sandbox ${sandbox} has ended; ask for a new guest grant`);
    const { token, tokenExpiresAtMs } = await this.auth.issueGuestToken(sandbox, record.expiresAtMs, this.sandboxes.limits.guestTokenTtlMs);
    return { sandbox, token, tokenExpiresAt: new Date(tokenExpiresAtMs).toISOString(), sandboxExpiresAt: new Date(record.expiresAtMs).toISOString() };
  }

  /** Deletes every guest sandbox past its lifetime (one pass; passes never overlap). */
  reap(): Promise<void> {
    this.#reaping ??= (async () => {
      for (const record of this.sandboxes.expired()) await this.#remove(record.sandbox);
    })().finally(() => (this.#reaping = undefined));
    return this.#reaping;
  }

  async #remove(sandbox: string): Promise<void> {
    try {
      await this.lifecycle.remove(sandbox);
      this.sandboxes.forget(sandbox);
      this.log.info({ sandbox }, 'guest sandbox removed');
    } catch (error) {
      this.log.error({ sandbox, err: error }, 'could not remove guest sandbox; will try again');
    }
  }

  close(): void {
    clearInterval(this.#reaper);
  }
}
