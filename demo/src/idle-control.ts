import { html, nothing, render } from 'lit';

/** The relay's default, restored by "Reset". */
const DEFAULT_IDLE_TIMEOUT_S = 600;
const SHORT_IDLE_TIMEOUT_S = 10;

/**
 * Sets the relay's idle timeout (`POST /v1/admin/idle-timeout`) or puts the sandbox to sleep at once
 * (`POST /v1/admin/sandboxes/:id/sleep`), so a visitor can watch a session sleep and come back in seconds instead of
 * ten minutes. Both are development endpoints of the relay, on under `npm start`.
 */
export function renderIdleControl(
  container: HTMLElement,
  { relayUrl, sandboxId }: { relayUrl: string; sandboxId: string },
): { showRelayTimeout(ms: number): void } {
  /** What the relay runs at, once known (from /healthz); the box shows it until the visitor types another value. */
  let relaySeconds: number | undefined;
  let seconds: number | undefined;
  let edited = false;
  let message = '';
  let failed = false;

  async function post(path: string, body?: unknown): Promise<void> {
    const response = await fetch(new URL(path, relayUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!response.ok) {
      const error = (await response.json().catch(() => null)) as { message?: string } | null;
      throw new Error(error?.message ?? `HTTP ${response.status}`);
    }
  }

  async function sleepNow(): Promise<void> {
    try {
      await post(`/v1/admin/sandboxes/${encodeURIComponent(sandboxId)}/sleep`);
      failed = false;
      message = `The sandbox “${sandboxId}” is asleep. Type a key in one of its terminals to wake it.`;
    } catch (error) {
      failed = true;
      message = `Could not put the sandbox to sleep: ${error instanceof Error ? error.message : String(error)}`;
    }
    draw();
  }

  async function apply(value: number): Promise<void> {
    try {
      await post('/v1/admin/idle-timeout', { ms: Math.round(value * 1000) });
      relaySeconds = value;
      failed = false;
      message =
        value < DEFAULT_IDLE_TIMEOUT_S
          ? `Sandboxes now sleep after ${value} s without activity. Leave the terminals alone for ${value} s, then type a key in one.`
          : `Back to the default: sandboxes sleep after ${value} s without activity.`;
    } catch (error) {
      failed = true;
      message = `Could not set the idle timeout: ${error instanceof Error ? error.message : String(error)}`;
    }
    draw();
  }

  function draw(): void {
    render(
      html`<form
        class="idle-control"
        @submit=${(event: Event) => {
          event.preventDefault();
          void apply(seconds ?? SHORT_IDLE_TIMEOUT_S);
        }}
      >
        <label
          >Idle timeout (seconds)
          <input
            type="number"
            min="1"
            max="86400"
            placeholder=${String(SHORT_IDLE_TIMEOUT_S)}
            .value=${seconds === undefined ? '' : String(seconds)}
            @input=${(event: Event) => {
              edited = true;
              seconds = Number((event.target as HTMLInputElement).value) || SHORT_IDLE_TIMEOUT_S;
            }}
          />
        </label>
        <button type="submit">Apply</button>
        <span class="hint">${relaySeconds === undefined ? 'relay: checking…' : `the relay now uses ${relaySeconds} s`}</span>
        <button type="button" @click=${() => apply(DEFAULT_IDLE_TIMEOUT_S)}>Reset to ${DEFAULT_IDLE_TIMEOUT_S} s</button>
        <button type="button" @click=${() => sleepNow()}>Sleep now</button>
        ${message ? html`<p class=${failed ? 'error' : 'hint'} role="status">${message}</p>` : nothing}
      </form>`,
      container,
    );
  }

  draw();
  return {
    showRelayTimeout(ms: number): void {
      const value = Math.round(ms / 1000);
      if (value === relaySeconds) return;
      relaySeconds = value;
      if (!edited) seconds = value;
      draw();
    },
  };
}
