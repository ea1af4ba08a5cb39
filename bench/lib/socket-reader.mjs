// The relay's delivery rate without a browser: a Node WebSocket client of the terminal protocol that acknowledges
// every frame as it arrives and renders nothing. Separates what the relay and its socket cost from what the page does.
import { getSandbox } from '@sandbox-terminal/client';
import { TERMINAL_SUBPROTOCOL, apiPaths } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';

const QUIET_MS = 300;

export async function openSocketReader(relayUrl, sandboxId) {
  const sessionId = await getSandbox(relayUrl, sandboxId).createSession();
  const ws = new WebSocket(`${relayUrl.replace(/^http/, 'ws')}${apiPaths.terminal(sandboxId, sessionId)}`, [TERMINAL_SUBPROTOCOL]);
  let position = 0;
  let lastOutputAt = Date.now();
  let onOutput = () => {};
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const message = JSON.parse(data.toString());
      if (message.type === 'ready' || message.type === 'screen') position = message.position;
      return;
    }
    position += data.length;
    lastOutputAt = Date.now();
    ws.send(JSON.stringify({ type: 'ack', position }));
    onOutput(data);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  // the prompt has been printed once output has been quiet for a while
  while (Date.now() - lastOutputAt < QUIET_MS) await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    /** ms from sending `command` + Enter until `marker` has arrived. */
    run(command, marker) {
      return new Promise((resolve) => {
        let carried = '';
        const start = performance.now();
        onOutput = (data) => {
          const text = carried + data.toString('latin1', Math.max(0, data.length - 512));
          if (text.includes(marker)) {
            onOutput = () => {};
            resolve(performance.now() - start);
          }
          carried = text.slice(-marker.length);
        };
        ws.send(Buffer.from(`${command}\r`), { binary: true });
      });
    },
    close: () => ws.close(),
  };
}
