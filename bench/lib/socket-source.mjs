// References (e) and (f): WebSocket servers in Node that feed a bare xterm in the page with the relay's framing
// (`OutputBatcher`) and flow control (its default watermarks, acks as xterm parses), and nothing else.
// (e) sends a workload's bytes from memory: what any terminal fed over a WebSocket can reach in this browser.
// (f) sends what a real shell prints on a PTY (node-pty, unisolated bash): the least any shell-to-browser terminal
// must do, so ours against (f) is what the relay's sessions, sandbox and element cost on top.
// Both run in a process of their own (bench/lib/reference-host.mjs), so their CPU is read apart from the bench's.
import pty from 'node-pty';
import { WebSocketServer } from 'ws';
import { DEFAULT_LIMITS } from '../../server/src/limits.ts';
import { OutputBatcher } from '../../server/src/terminal/output-batcher.ts';
import { THROUGHPUT_WORKLOADS } from './workload-data.mjs';

const { flowHighWatermarkBytes: HIGH_WATERMARK, flowLowWatermarkBytes: LOW_WATERMARK } = DEFAULT_LIMITS;
/** What a PTY may still print after its shell exited. */
const EXIT_SETTLE_MS = 100;
/** (e) hands the batcher this much at a time, as PTY reads would come (but bigger: from memory). */
const MEMORY_CHUNK_BYTES = 64 * 1024;

/** A server for one reference; `connection` gets each socket and a `flow` that paces a source by the page's acks. */
async function startServer(connection) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', (socket) => {
    let sent = 0;
    let acked = 0;
    let paused = false;
    let ended = false;
    const flow = {
      /** Sends as the relay does (frames joined by an OutputBatcher) and counts the bytes in flight. */
      batcher: new OutputBatcher((data) => socket.send(data)),
      push(data) {
        sent += data.length;
        flow.batcher.push(data);
        flow.check();
      },
      check() {
        if (!paused && sent - acked > HIGH_WATERMARK) {
          paused = true;
          flow.onPause?.();
        } else if (paused && sent - acked < LOW_WATERMARK) {
          paused = false;
          flow.onResume?.();
        }
      },
      get paused() {
        return paused;
      },
      /** Flushes the last frame and tells the page how many bytes there were. */
      end() {
        if (ended) return;
        ended = true;
        flow.batcher.flush();
        socket.send(JSON.stringify({ end: sent }));
      },
    };
    const handlers = connection(flow);
    socket.on('message', (message, isBinary) => {
      if (isBinary) return handlers.input?.(message);
      const control = JSON.parse(message.toString());
      if (typeof control.ack === 'number') {
        acked = control.ack;
        flow.check();
      }
      if (control.start) handlers.start(control);
    });
    socket.on('close', () => {
      flow.batcher.discard();
      handlers.close?.();
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** (e): a workload's terminal bytes from memory (`{ start, workload }`), as fast as the window allows. */
export function startSocketSource() {
  const data = Object.fromEntries(Object.entries(THROUGHPUT_WORKLOADS).map(([name, workload]) => [name, workload.terminalBytes()]));
  return startServer((flow) => {
    let bytes;
    let offset = 0;
    const pump = () => {
      while (offset < bytes.length && !flow.paused) {
        const end = Math.min(offset + MEMORY_CHUNK_BYTES, bytes.length);
        flow.push(bytes.subarray(offset, end));
        offset = end;
      }
      if (offset >= bytes.length) flow.end();
    };
    flow.onResume = pump;
    return {
      start({ workload }) {
        bytes = data[workload];
        pump();
      },
    };
  });
}

/**
 * (f): `{ start, command, cols, rows }` runs `command` by bash on a PTY of the page's size; its output as it is read,
 * binary frames as its input. The shell is killed when the page closes the socket.
 */
export function startPtySocketSource() {
  return startServer((flow) => {
    let shell;
    return {
      input: (data) => shell?.write(data),
      start({ command, cols, rows }) {
        shell = pty.spawn('/bin/bash', ['-c', command], { cols, rows, encoding: null, env: { ...process.env, TERM: 'xterm-256color' } });
        flow.onPause = () => shell.pause();
        flow.onResume = () => shell.resume();
        shell.onData((data) => flow.push(data));
        shell.onExit(() => setTimeout(() => flow.end(), EXIT_SETTLE_MS));
      },
      close: () => shell?.kill('SIGKILL'),
    };
  });
}
