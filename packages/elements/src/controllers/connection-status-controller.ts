import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { IDisposable } from '@xterm/xterm';
import { statuses, type ConnectionStatus } from '../connection-status.ts';
import type { RelayConnectionAddon } from '../relay-connection-addon.ts';

/**
 * Mirrors a connection's status into the element: re-renders the status bar on each change and announces it with a
 * `status-change` event. The element may also set a status itself (creating a session, a configuration error).
 */
export class ConnectionStatusController implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  #subscription: IDisposable | undefined;
  #status: ConnectionStatus = statuses.idle();

  constructor(host: ReactiveControllerHost & HTMLElement) {
    this.#host = host;
    host.addController(this);
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Follows `connection` from now on, replacing any connection followed before. */
  follow(connection: RelayConnectionAddon): void {
    this.unfollow();
    this.#subscription = connection.onStatusChange((status) => this.set(status));
    this.set(connection.status);
  }

  unfollow(): void {
    this.#subscription?.dispose();
    this.#subscription = undefined;
  }

  set(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#host.requestUpdate();
    this.#host.dispatchEvent(new CustomEvent('status-change', { detail: { status }, bubbles: true, composed: true }));
  }

  hostDisconnected(): void {
    this.unfollow();
  }
}
