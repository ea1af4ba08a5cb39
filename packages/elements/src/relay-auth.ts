import type { SandboxOptions } from '@sandbox-terminal/client';

/** Returns a token for the relay; may fetch one from the site's backend. Called before every call and (re)connection. */
export type TokenProvider = () => string | Promise<string>;

/** What an element knows about authenticating to the relay: its `token` attribute and `getToken` property. */
export interface RelayCredentials {
  token?: string | undefined;
  getToken?: TokenProvider | undefined;
}

/**
 * The client options for an element's credentials. With `getToken`, the element is asked at each call rather than
 * the function captured now, so a page that replaces `getToken` later is not left with a stale one.
 */
export function sandboxOptionsFor(credentials: RelayCredentials): SandboxOptions {
  if (credentials.getToken) {
    return { getToken: () => (credentials.getToken ? credentials.getToken() : (credentials.token ?? '')) };
  }
  return credentials.token ? { token: credentials.token } : {};
}
