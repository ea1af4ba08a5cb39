import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TERMINAL_SUBPROTOCOL } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';
import { startRelay } from './helpers.ts';

const GOOD = 'https://good.example';
const BAD = 'https://evil.example';
const env = await startRelay({ allowedOrigins: [GOOD] });
after(() => env.close());

/** Opens a terminal socket with an Origin header; resolves to the upgrade's HTTP status (101 when it opened). */
function upgradeStatus(url: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [TERMINAL_SUBPROTOCOL], { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
  });
}

describe('allowedOrigins', () => {
  it('an API call from another origin is refused with 403 FORBIDDEN and no CORS header; an allowed origin gets its CORS header', async () => {
    const sandbox = env.sandbox();
    const refused = await fetch(`${env.relay.url}/v1/sandboxes/${sandbox.id}/sessions`, { headers: { origin: BAD } });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { code: string }).code, 'FORBIDDEN');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    const allowed = await fetch(`${env.relay.url}/v1/sandboxes/${sandbox.id}/sessions`, { headers: { origin: GOOD } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), GOOD);
  });

  it('a CORS preflight from another origin is refused', async () => {
    const sandbox = env.sandbox();
    const preflight = (origin: string) =>
      fetch(`${env.relay.url}/v1/sandboxes/${sandbox.id}/exec`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal((await preflight(BAD)).status, 403);
    assert.equal((await preflight(GOOD)).status, 204);
  });

  it('a terminal upgrade from another origin is refused before any shell is reached', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    assert.equal(await upgradeStatus(sandbox.terminalUrl(session), BAD), 403);
    assert.equal((await sandbox.getSession(session)).viewers, 0);
    assert.equal(await upgradeStatus(sandbox.terminalUrl(session), GOOD), 101);
  });
});
