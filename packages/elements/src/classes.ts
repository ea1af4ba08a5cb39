// Everything public, without registering any tag: for pages that register under their own names or only want the
// xterm addon. `<session-tabs>` renders `<sandbox-terminal>` elements, so register that tag when using it.
export { SandboxTerminal, type TerminalTheme } from './sandbox-terminal.ts';
export { SessionTabs, type SessionTab } from './session-tabs.ts';
export {
  RelayConnectionAddon,
  DEFAULT_RECONNECT_POLICY,
  UNREACHABLE_AFTER_ATTEMPTS,
  dialectFor,
  type RelayConnectionOptions,
  type CloudflareConnectionOptions,
  type DialectConnectionOptions,
  type ConnectionOptionsFor,
  type ReconnectPolicy,
} from './relay-connection-addon.ts';
export type { TerminalDialect, DialectHost, Attachment, CloseOutcome, ConnectionAttempt, ScreenRestore, TerminalProtocol } from './dialects/dialect.ts';
export { RelayDialect, type TerminalSocketTarget } from './dialects/relay-dialect.ts';
export { CloudflareSdk0Dialect, CloudflareSdk1Dialect } from './dialects/cloudflare-dialects.ts';
export { statuses, acceptsInput, describeError, type ConnectionState, type ConnectionStatus, type ConnectionError } from './connection-status.ts';
export { ShellPromptTracker, parseFileUrlPath } from './shell-prompt-tracker.ts';
export { TerminalKeys, TERMINAL_KEYS, ESCAPE_THEN_TAB_MS } from './terminal-keys.ts';
export { TYPEAHEAD_MS, TYPEAHEAD_BYTES } from './typeahead.ts';
export { TerminalFitController, FIT_DEBOUNCE_MS } from './controllers/fit-controller.ts';
export { ConnectionStatusController } from './controllers/connection-status-controller.ts';
export { ColorSchemeController, siteColorScheme, type ColorScheme } from './controllers/color-scheme-controller.ts';
export { SessionResolutionController, type SessionRequest, type SessionResolution, type ResolvedSession, type SessionOrigin } from './controllers/session-resolution-controller.ts';
export { IDLE_SESSION_AGE_MS } from './session-limit.ts';
export { DARK_ANSI, LIGHT_ANSI, type AnsiPalette } from './terminal-theme.ts';
export { PERSISTED_SESSION_TTL_MS } from './persisted-record.ts';
export type { TokenProvider } from './relay-auth.ts';
export type * from './events.ts';
