// Everything public, without registering any tag: for pages that register under their own names or only want the
// xterm addon. `<session-tabs>` renders `<sandbox-terminal>` elements, so register that tag when using it.
export { SandboxTerminal, type TerminalTheme } from './sandbox-terminal.ts';
export { SessionTabs, type SessionTab } from './session-tabs.ts';
export {
  RelayConnectionAddon,
  DEFAULT_RECONNECT_POLICY,
  type RelayConnectionOptions,
  type CloudflareConnectionOptions,
  type TerminalProtocol,
  type ReconnectPolicy,
  type ScreenRestore,
  type TerminalEndpoint,
} from './relay-connection-addon.ts';
export { statuses, acceptsInput, type ConnectionState, type ConnectionStatus } from './connection-status.ts';
export { ShellIntegration, parseFileUrlPath } from './shell-integration.ts';
export { TerminalFitController, FIT_DEBOUNCE_MS } from './controllers/fit-controller.ts';
export { ConnectionStatusController } from './controllers/connection-status-controller.ts';
export { ColorSchemeController, type ColorScheme } from './controllers/color-scheme-controller.ts';
export { PERSISTED_SESSION_TTL_MS } from './session-store.ts';
export type { TokenProvider } from './relay-auth.ts';
export type * from './events.ts';
