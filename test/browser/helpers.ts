/// <reference types="mocha" />
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { getSandbox, type Sandbox } from '@sandbox-terminal/client';
import type { ConnectionState, ReconnectPolicy, SandboxTerminal } from '@sandbox-terminal/elements';
import '@sandbox-terminal/elements';

/** The longest any single condition in these tests is waited for. */
export const WAIT_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 25;

let relayUrlPromise: Promise<string> | undefined;

/** The URL of the relay the test runner started (see web-test-runner.config.mjs). */
export function relayUrl(): Promise<string> {
  relayUrlPromise ??= executeServerCommand<{ url: string } | undefined, undefined>('relay-info').then((info) => {
    if (!info?.url) throw new Error('relay-info returned no URL: is the relay plugin configured?');
    return info.url;
  });
  return relayUrlPromise;
}

/** A sandbox id no other test uses, so tests cannot see each other's files or sessions. */
export function uniqueSandboxId(name: string): string {
  return `wtr-${name}-${Math.random().toString(36).slice(2, 10)}`;
}

export async function sandboxClient(sandboxId: string): Promise<Sandbox> {
  return getSandbox(await relayUrl(), sandboxId);
}

export const relayCommands = {
  dropConnections: (sandbox?: string, relay: 'open' | 'secured' = 'open') =>
    executeServerCommand('drop-connections', { sandbox, secured: relay === 'secured' }),
  /** `relay` names an extra relay (see `extraRelay`); the shared one otherwise. */
  sleepSandbox: (sandbox: string, relay?: string) => executeServerCommand('sleep-sandbox', { sandbox, ...(relay ? { relay } : {}) }),
};

/**
 * A relay of this test's own (started once per name, with its own data directory), which it may stop and start again
 * without taking down the relay other test files share.
 */
export const extraRelay = {
  start: async (name: string, limits?: Record<string, number>): Promise<string> => {
    const info = await executeServerCommand<{ url: string }, { name: string; limits?: Record<string, number> }>('extra-relay', { name, ...(limits ? { limits } : {}) });
    return info.url;
  },
  stop: (name: string) => executeServerCommand('stop-relay', { name }),
  /** Listening again on the same port with the same data directory: a restarted relay. */
  restart: (name: string) => executeServerCommand('start-relay', { name }),
};

/** Polls `condition` until it returns a truthy value, which is returned; fails with `what` and the last state. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  { timeoutMs = WAIT_TIMEOUT_MS, describeState }: { timeoutMs?: number; describeState?: () => string } = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      const state = describeState ? `\nstate: ${describeState()}` : '';
      const cause = lastError instanceof Error ? `\nlast error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** A fixed-size box each test mounts its elements into; removed after each test. */
export function fixture(): HTMLElement {
  const box = document.createElement('div');
  box.style.cssText = 'width: 800px; height: 420px; position: relative;';
  box.className = 'test-fixture';
  document.body.append(box);
  return box;
}

export function cleanUpFixtures(): void {
  for (const box of document.querySelectorAll('.test-fixture')) box.remove();
}

export interface MountOptions {
  sandbox: string;
  session?: string;
  persistKey?: string;
  readonly?: boolean;
  relay?: string;
  reconnect?: Partial<ReconnectPolicy>;
  into?: HTMLElement;
  /** Sets what else the test needs (a token, `getToken`) before the element connects. */
  beforeConnect?: (element: SandboxTerminal) => void;
}

/** Adds a `<sandbox-terminal>` to the page (filling its fixture box) and records every status it reports. */
export async function mountTerminal(options: MountOptions): Promise<{ element: SandboxTerminal; states: ConnectionState[] }> {
  const element = document.createElement('sandbox-terminal');
  element.relay = options.relay ?? (await relayUrl());
  element.sandbox = options.sandbox;
  if (options.session) element.session = options.session;
  if (options.persistKey) element.persistKey = options.persistKey;
  element.readonly = options.readonly ?? false;
  if (options.reconnect) element.reconnectPolicy = options.reconnect;
  options.beforeConnect?.(element);
  element.style.height = '100%';
  const states: ConnectionState[] = [];
  element.addEventListener('status-change', (event) => states.push(event.detail.status.state));
  (options.into ?? fixture()).append(element);
  return { element, states };
}

/** The terminal's buffer (scrollback and screen) as trimmed lines. */
export function screenLines(element: SandboxTerminal): string[] {
  const buffer = element.terminal?.buffer.active;
  if (!buffer) return [];
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true).trimEnd() ?? '');
  return lines;
}

export function screenText(element: SandboxTerminal): string {
  return screenLines(element).join('\n');
}

/** Waits until a line of the terminal is exactly `line` (so the echoed command line itself does not count). */
export function waitForLine(element: SandboxTerminal, line: string, timeoutMs?: number): Promise<boolean> {
  return waitFor(() => screenLines(element).some((text) => text.trim() === line), `a line "${line}" on the screen`, {
    ...(timeoutMs ? { timeoutMs } : {}),
    describeState: () => `status ${JSON.stringify(element.status)}; screen:\n${screenText(element).trim().slice(-1500)}`,
  });
}

/**
 * Waits until `text` appears anywhere on the screen. For output of commands run through `exec`: the relay shows them
 * in the terminal, but where their output lands relative to the prompt is the relay's business.
 */
export function waitForText(element: SandboxTerminal, text: string, timeoutMs?: number): Promise<boolean> {
  return waitFor(() => screenText(element).includes(text), `"${text}" on the screen`, {
    ...(timeoutMs ? { timeoutMs } : {}),
    describeState: () => `status ${JSON.stringify(element.status)}; screen:\n${screenText(element).trim().slice(-1500)}`,
  });
}

export function waitForState(element: SandboxTerminal, state: ConnectionState, timeoutMs?: number): Promise<boolean> {
  return waitFor(() => element.status.state === state, `status "${state}"`, {
    ...(timeoutMs ? { timeoutMs } : {}),
    describeState: () => JSON.stringify(element.status),
  });
}

/**
 * Waits until the shell is known to be at a prompt with a working directory: the relay attaches a viewer only after
 * the shell's first prompt and sends its cwd in `ready`; later prompts report it with OSC 7.
 */
export function waitForPrompt(element: SandboxTerminal): Promise<string> {
  return waitFor(() => (element.status.state === 'connected' ? element.cwd : undefined), 'the shell prompt', {
    describeState: () => `status ${JSON.stringify(element.status)}; screen:\n${screenText(element).trim().slice(-500)}`,
  });
}

/** Types into the terminal with real key events (Playwright's keyboard), then presses Enter. */
export async function typeLine(element: SandboxTerminal, text: string): Promise<void> {
  element.focus();
  if (text) await sendKeys({ type: text });
  await sendKeys({ press: 'Enter' });
}

/** The text in the element's status bar, as a user sees it. */
export function statusBarText(element: HTMLElement): string {
  return element.shadowRoot?.querySelector('[part~="status-message"]')?.textContent?.trim() ?? '';
}
