/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { executeServerCommand } from '@web/test-runner-commands';
import { getSandbox } from '@sandbox-terminal/client';
import type { TokenScope } from '@sandbox-terminal/protocol';
import {
  cleanUpFixtures,
  mountTerminal,
  relayCommands,
  screenText,
  typeLine,
  uniqueSandboxId,
  waitFor,
  waitForLine,
  waitForPrompt,
  waitForState,
} from './helpers.ts';

/** Longer than the first reconnection delay (500 ms) plus its jitter: a reconnecting socket would have shown up. */
const LONGER_THAN_FIRST_RECONNECT_MS = 2_000;
/** Tokens that expire while the test watches; jose's `exp` has whole seconds, so this lives between 1 and 2 s. */
const SHORT_TOKEN_LIFETIME_S = 2;

async function securedRelayUrl(): Promise<string> {
  const info = await executeServerCommand<{ url: string } | undefined, undefined>('secured-relay-info');
  if (!info?.url) throw new Error('secured-relay-info returned no URL: is the relay plugin configured?');
  return info.url;
}

async function issueToken(sandbox: string, scope: TokenScope, expiresIn: number): Promise<string> {
  const result = await executeServerCommand<{ token: string } | undefined, { sandbox: string; scope: TokenScope; expiresIn: number }>('issue-token', { sandbox, scope, expiresIn });
  if (!result?.token) throw new Error('issue-token returned no token');
  return result.token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('<sandbox-terminal> with a relay that requires tokens', () => {
  afterEach(cleanUpFixtures);

  it('asks getToken again on every reconnection, so a token that expired meanwhile is no obstacle', async () => {
    const relay = await securedRelayUrl();
    const sandboxId = uniqueSandboxId('token-refresh');
    const session = await getSandbox(relay, sandboxId, { token: await issueToken(sandboxId, 'admin', 600) }).createSession();
    let asked = 0;
    const { element, states } = await mountTerminal({ relay, sandbox: sandboxId, session, beforeConnect: (terminal) => {
      terminal.getToken = async () => {
        asked += 1;
        return issueToken(sandboxId, 'write', SHORT_TOKEN_LIFETIME_S);
      };
    } });
    await waitForPrompt(element);
    await typeLine(element, 'export TOKEN_TEST=kept && echo first-$((1+1))');
    await waitForLine(element, 'first-2');
    const askedBeforeDrop = asked;
    expect(askedBeforeDrop).to.be.greaterThan(0);

    // Every token handed out so far is now expired; a reconnection must fetch a new one.
    await sleep((SHORT_TOKEN_LIFETIME_S + 1.2) * 1000);
    states.length = 0;
    await relayCommands.dropConnections(sandboxId, 'secured');
    await waitFor(() => states.includes('reconnecting'), 'status "reconnecting"', { describeState: () => states.join(' → ') });
    await waitForState(element, 'connected');
    await typeLine(element, 'echo second-$TOKEN_TEST');
    await waitForLine(element, 'second-kept');
    expect(asked).to.be.greaterThan(askedBeforeDrop);
    expect(states).not.to.include('error');
  });

  it('a connection refused as unauthorized is retried with a fresh token from getToken', async () => {
    const relay = await securedRelayUrl();
    const sandboxId = uniqueSandboxId('token-retry');
    const session = await getSandbox(relay, sandboxId, { token: await issueToken(sandboxId, 'admin', 600) }).createSession();
    let asked = 0;
    const { element } = await mountTerminal({ relay, sandbox: sandboxId, session, beforeConnect: (terminal) => {
      // The first token is already expired: the relay closes with 4401, the element asks again.
      terminal.getToken = () => {
        asked += 1;
        return issueToken(sandboxId, 'write', asked === 1 ? -60 : 600);
      };
    } });
    await waitForPrompt(element);
    await typeLine(element, 'echo retried-$((3*3))');
    await waitForLine(element, 'retried-9');
    expect(asked).to.be.at.least(2);
  });

  it('a fixed token that is refused ends in an error state without reconnecting', async () => {
    const relay = await securedRelayUrl();
    const sandboxId = uniqueSandboxId('token-fixed');
    const session = await getSandbox(relay, sandboxId, { token: await issueToken(sandboxId, 'admin', 600) }).createSession();
    const expired = await issueToken(sandboxId, 'write', -60);
    const { element, states } = await mountTerminal({ relay, sandbox: sandboxId, session, beforeConnect: (terminal) => (terminal.token = expired) });
    await waitForState(element, 'error');
    expect(element.status.error?.code).to.equal('UNAUTHORIZED');
    await sleep(LONGER_THAN_FIRST_RECONNECT_MS);
    expect(element.status.state).to.equal('error');
    expect(states.filter((state) => state === 'reconnecting')).to.deep.equal([]);
  });

  it('a token for another sandbox ends in a FORBIDDEN error state', async () => {
    const relay = await securedRelayUrl();
    const sandboxId = uniqueSandboxId('token-other');
    const session = await getSandbox(relay, sandboxId, { token: await issueToken(sandboxId, 'admin', 600) }).createSession();
    const otherToken = await issueToken(uniqueSandboxId('token-elsewhere'), 'admin', 600);
    let asked = 0;
    const { element } = await mountTerminal({ relay, sandbox: sandboxId, session, beforeConnect: (terminal) => {
      terminal.getToken = () => {
        asked += 1;
        return otherToken;
      };
    } });
    await waitForState(element, 'error');
    expect(element.status.error?.code).to.equal('FORBIDDEN');
    await sleep(LONGER_THAN_FIRST_RECONNECT_MS);
    expect(asked).to.equal(1);
    expect(screenText(element)).not.to.contain('$');
  });
});
