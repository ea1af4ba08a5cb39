// Reference (e) of workload 1: the same 50 MiB served by a WebSocket server in Node straight from memory, paced by
// acks like the relay's flow control (64 KiB frames, a 2 MiB window), into a bare xterm in the page. No PTY, no
// relay, no element: what any terminal fed over a WebSocket can reach in this browser on this machine.
import { WebSocketServer } from 'ws';

const SOURCE_FRAME_BYTES = 64 * 1024;
const SOURCE_WINDOW_BYTES = 2 * 1024 * 1024;

/** @param {Uint8Array} data  the bytes every connection is sent, from the start, once it says `{ "start": true }` */
export async function startSocketSource(data) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', (socket) => {
    let sent = 0;
    let acked = 0;
    socket.on('message', (message) => {
      const control = JSON.parse(message.toString());
      if (control.start) sent = acked = 0;
      if (typeof control.ack === 'number') acked = control.ack;
      while (sent < data.length && sent - acked < SOURCE_WINDOW_BYTES) {
        const end = Math.min(sent + SOURCE_FRAME_BYTES, data.length);
        socket.send(data.subarray(sent, end));
        sent = end;
      }
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** `line` + CRLF repeated to at least `totalBytes`: the same text the shell's `yes` produces on the terminal. */
export function repeatedLines(line, totalBytes) {
  const lineBytes = Buffer.from(`${line}\r\n`);
  const data = Buffer.alloc(Math.ceil(totalBytes / lineBytes.length) * lineBytes.length);
  for (let offset = 0; offset < data.length; offset += lineBytes.length) lineBytes.copy(data, offset);
  return data;
}
