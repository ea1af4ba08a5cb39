import type { Transport, TransportResponse } from './transport.ts';

/** Calls through a `fetch` (the global one, or `SandboxOptions.fetch`). */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async ({ method, url, headers, body, signal }) => {
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body as BodyInit;
    if (signal) init.signal = signal;
    return fetchResponse(await fetchImpl(url, init));
  };
}

function fetchResponse(response: Response): TransportResponse {
  return {
    status: response.status,
    bytes: async () => new Uint8Array(await response.arrayBuffer()),
    async *chunks() {
      if (!response.body) return;
      // A reader rather than `for await`: Safari's ReadableStream is not async-iterable.
      const reader = response.body.getReader();
      let ended = false;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) {
            ended = true;
            return;
          }
          yield value;
        }
      } finally {
        // A reader that stopped early closes the request, as node:http's does.
        if (ended) reader.releaseLock();
        else await reader.cancel().catch(() => undefined);
      }
    },
  };
}

/** The default outside Node: the global `fetch`, looked up per call so a page may replace it later. */
export const defaultTransport: Transport = fetchTransport((input, init) => fetch(input, init));
