// The relay's Cloudflare compatibility mode takes the resize of Cloudflare's Sandbox SDK 1.0 browser-terminal recipe:
// a bare {"cols","rows"} object, without `type`, validated like ours. Connections with our subprotocol do not.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { parseClientControl, parseCompatClientControl, TERMINAL_SUBPROTOCOL } from '@sandbox-terminal/protocol';
import { startRelay, waitFor } from './helpers.ts';

const env = await startRelay();
after(() => env.close());

describe('Cloudflare compatibility: the untyped resize', () => {
  it('is read as a resize, within the same bounds', () => {
    assert.deepEqual(parseCompatClientControl('{"cols":100,"rows":30}'), { ok: true, value: { type: 'resize', cols: 100, rows: 30 } });
    const tooWide = parseCompatClientControl('{"cols":100000,"rows":30}');
    assert.equal(tooWide.ok, false);
    assert.equal(!tooWide.ok && tooWide.error.code, 'LIMIT_EXCEEDED');
    const extra = parseCompatClientControl('{"cols":100,"rows":30,"x":1}');
    assert.equal(!extra.ok && extra.error.code, 'UNKNOWN_MESSAGE');
    assert.deepEqual(parseCompatClientControl('{"type":"ping"}'), { ok: true, value: { type: 'ping' } });
  });

  it('is not part of our own protocol', () => {
    assert.equal(parseClientControl('{"cols":100,"rows":30}').ok, false);
  });

  it('reaches the PTY of a client without our subprotocol, and is refused with it', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const compat = new WebSocket(sandbox.terminalUrl(session));
    let output = '';
    const frames: Array<{ type: string; code?: string }> = [];
    compat.on('message', (data: Buffer, isBinary) => (isBinary ? (output += data.toString()) : frames.push(JSON.parse(data.toString()))));
    await waitFor(() => frames.some((frame) => frame.type === 'ready'), 'ready');
    compat.send(JSON.stringify({ cols: 97, rows: 29 }));
    compat.send(Buffer.from('stty size; echo sized-$((6*7))\r'));
    await waitFor(() => output.includes('29 97') && output.includes('sized-42'), 'stty size after the untyped resize');
    assert.deepEqual(frames.filter((frame) => frame.type === 'error'), []);
    compat.close();

    const ours = new WebSocket(sandbox.terminalUrl(session), [TERMINAL_SUBPROTOCOL]);
    const controls: Array<{ type: string; code?: string }> = [];
    ours.on('message', (data: Buffer, isBinary) => !isBinary && controls.push(JSON.parse(data.toString())));
    await waitFor(() => controls.some((frame) => frame.type === 'ready'), 'ready (v1)');
    ours.send(JSON.stringify({ cols: 50, rows: 20 }));
    const refused = await waitFor(() => controls.find((frame) => frame.type === 'error'), 'the v1 refusal');
    assert.equal(refused.code, 'UNKNOWN_MESSAGE');
    ours.close();
  });
});
