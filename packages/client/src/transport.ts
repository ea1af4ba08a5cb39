/**
 * The one seam between the SDK and the network: a function that makes one HTTP call. `#default-transport` picks
 * node:http in Node (package.json `imports`, condition `node`) and `fetch` everywhere else.
 */
export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborting rejects the call, or fails the body's reading once the answer has begun, with the signal's reason. */
  signal?: AbortSignal;
}

/** An answer whose head has arrived. Read its body exactly once, by `bytes()` or `chunks()`. */
export interface TransportResponse {
  readonly status: number;
  bytes(): Promise<Uint8Array>;
  /** The body as it arrives (execStream). */
  chunks(): AsyncIterable<Uint8Array>;
}

export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** What a fetch rejects with on abort, for transports that are not fetch. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
