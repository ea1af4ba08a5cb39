// References (e) and (f) of workload 1: WebSocket servers in Node that feed a bare xterm in the page with the relay's
// framing (`OutputBatcher`) and flow control (its default watermarks, acks as xterm parses), and nothing else.
// (e) sends the bytes from memory: what any terminal fed over a WebSocket can reach in this browser on this machine.
// (f) sends what a real shell prints on a PTY (node-pty, unisolated bash): the least any shell-to-browser terminal
// must do, so ours against (f) is what the relay's sessions, sandbox and element cost on top.
import pty from 'node-pty';
import { WebSocketServer } from 'ws';
import { DEFAULT_LIMITS } from '../../server/src/limits.ts';
import { OutputBatcher } from '../../server/src/terminal/output-batcher.ts';

const { flowHighWatermarkBytes: HIGH_WATERMARK, flowLowWatermarkBytes: LOW_WATERMARK } = DEFAULT_LIMITS;
/** What a PTY may still print after its shell exited. */
const EXIT_SETTLE_MS = 100;

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
    socket.on('close', () => handlers.close?.());
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** (e): `data` from memory, as fast as the window allows. */
export function startSocketSource(data) {
  return startServer((flow) => {
    let offset = 0;
    const pump = () => {
      while (offset < data.length && !flow.paused) {
        const end = Math.min(offset + 64 * 1024, data.length);
        flow.push(data.subarray(offset, end));
        offset = end;
      }
      if (offset >= data.length) flow.end();
    };
    flow.onResume = pump;
    return { start: pump };
  });
}

/** (f): `command` run by bash on a PTY of the page's size; its output as it is read, binary frames as its input. */
export function startPtySocketSource(command) {
  return startServer((flow) => {
    let shell;
    return {
      input: (data) => shell?.write(data),
      start({ cols, rows }) {
        shell = pty.spawn('/bin/bash', ['-c', command], { cols, rows, encoding: null, env: { ...process.env, TERM: 'xterm-256color' } });
        flow.onPause = () => shell.pause();
        flow.onResume = () => shell.resume();
        shell.onData((data) => flow.push(data));
        shell.onExit(() => setTimeout(() => flow.end(), EXIT_SETTLE_MS));
      },
      close: () => shell?.kill(),
    };
  });
}

/** `line` + CRLF repeated to at least `totalBytes`: the same text the shell's `yes` produces on the terminal. */
export function repeatedLines(line, totalBytes) {
  const lineBytes = Buffer.from(`${line}\r\n`);
  const data = Buffer.alloc(Math.ceil(totalBytes / lineBytes.length) * lineBytes.length);
  for (let offset = 0; offset < data.length; offset += lineBytes.length) lineBytes.copy(data, offset);
  return data;
}
