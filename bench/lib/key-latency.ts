// Bench instrumentation inside the relay process (bench/lib/relay-host.ts): for each keystroke, the time from its
// one-byte input frame arriving to the next small output frame (its echo) leaving. Splits workload 3's latency into
// the relay's part and the rest (browser, network service, scheduling). Valid only while keys are the sole one-byte
// input, as in the echo workloads; the relay's code is not changed for it.
import WebSocket from 'ws';

/** An echo of one key is at most this big (a multibyte character, or a control character shown as ^C). */
const ECHO_FRAME_MAX_BYTES = 8;

const samples: number[] = [];
let keyAt: number | undefined;

const emit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (this: WebSocket, event: string | symbol, ...args: unknown[]) {
  if (event === 'message' && args[1] === true && (args[0] as Buffer).length === 1) keyAt = performance.now();
  return emit.call(this, event, ...args);
} as typeof emit;

const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
  if (keyAt !== undefined && Buffer.isBuffer(data) && data.length <= ECHO_FRAME_MAX_BYTES) {
    samples.push(performance.now() - keyAt);
    keyAt = undefined;
  }
  return (send as (...all: unknown[]) => void).call(this, data, ...rest);
} as typeof send;

/** The samples since the last call, and a fresh start. */
export function takeKeyLatencies(): number[] {
  keyAt = undefined;
  return samples.splice(0);
}
