// Guest mode (`sandbox-relay --guest`): readers without a login get a sandbox of their own. Real relay, real backend,
// real bash; tokens as a page would hold them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BubblewrapBackend, DEFAULT_SANDBOX_IDS, DEFAULT_GUEST_LIMITS, DEFAULT_LIMITS, UnisolatedBackend, createRelay, issueToken, type RelayOptions, type SandboxBackend, type SandboxSpec } from '@sandbox-terminal/server';
import { GuestAccess, SandboxError, getSandbox, renewGuestToken, requestGuestGrant, type GuestCredentials, type GuestStore } from '@sandbox-terminal/client';
import { apiPaths } from '@sandbox-terminal/protocol';
import { parseGuestConfig } from '../../server/src/guest/guest-cli.ts';
import { TerminalClient, waitFor } from './helpers.ts';

const TEST_TIMEOUT_MS = 60_000;
const SECRET = 'guest-test-secret-long-enough-for-hs256-0123456789';

let scratch: string;
let templateDir: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sandbox-guest-test-'));
  templateDir = join(scratch, 'tutorial');
  await mkdir(templateDir);
  await writeFile(join(templateDir, 'hello.txt'), 'from the template\n');
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function recordingBackend() {
  const real: SandboxBackend = BubblewrapBackend.probe(DEFAULT_SANDBOX_IDS).ok ? new BubblewrapBackend({ ids: DEFAULT_SANDBOX_IDS, network: { allow: [] } }) : new UnisolatedBackend();
  const specs: SandboxSpec[] = [];
  const backend: SandboxBackend = { name: real.name, isolated: real.isolated, ...(real.ids ? { ids: real.ids } : {}), start: (spec) => (specs.push(spec), real.start(spec)) };
  return { backend, specs };
}

async function guestRelay(options: RelayOptions = {}) {
  return createRelay({ port: 0, host: '127.0.0.1', logger: 'silent', secret: SECRET, guest: true, ...options });
}

async function refusal(promise: Promise<unknown>): Promise<SandboxError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof SandboxError, `expected a SandboxError, got ${String(error)}`);
  return error;
}

async function postGrant(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url + apiPaths.guestGrants(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
}

describe('guest mode', { timeout: TEST_TIMEOUT_MS }, () => {
  it('needs a secret, and a relay without --guest answers GUEST_MODE_OFF', async () => {
    await assert.rejects(createRelay({ port: 0, logger: 'silent', guest: true }), /guest mode needs a secret/);
    const relay = await createRelay({ port: 0, host: '127.0.0.1', logger: 'silent', secret: SECRET });
    try {
      assert.equal((await refusal(requestGuestGrant(relay.url))).code, 'GUEST_MODE_OFF');
    } finally {
      await relay.close();
    }
  });

  it('two guests get different sandboxes that cannot see each other\'s files, sessions or terminals', async () => {
    const relay = await guestRelay();
    try {
      const [alice, bob] = await Promise.all([GuestAccess.open(relay.url), GuestAccess.open(relay.url)]);
      assert.notEqual(alice.access.sandbox, bob.access.sandbox);
      assert.match(alice.access.sandbox, /^guest-[0-9a-f-]{36}$/);
      const aliceSandbox = alice.access.client();
      const bobSandbox = bob.access.client();
      const session = await aliceSandbox.createSession();
      await aliceSandbox.exec('echo alice-secret > /workspace/secret.txt', { session });
      assert.equal(await aliceSandbox.readFile('/workspace/secret.txt'), 'alice-secret\n');
      assert.equal(await bobSandbox.exists('/workspace/secret.txt'), false);
      assert.equal((await bobSandbox.exec('cat /workspace/secret.txt 2>&1; ls -A /workspace')).stdout, 'cat: /workspace/secret.txt: No such file or directory\n');

      // Bob's token names his sandbox only: Alice's, by id, is refused for every kind of call.
      const bobOnAlice = getSandbox(relay.url, alice.access.sandbox, { getToken: bob.access.getToken });
      for (const call of [bobOnAlice.readFile('/workspace/secret.txt'), bobOnAlice.exec('true'), bobOnAlice.listSessions(), bobOnAlice.delete(), bobOnAlice.createSession()]) {
        assert.equal((await refusal(call)).code, 'FORBIDDEN');
      }
      const viewer = new TerminalClient(bobOnAlice.terminalUrl(session), await bobOnAlice.terminalProtocols());
      await waitFor(() => viewer.closeCode !== undefined, 'the refused terminal to close');
      assert.equal(viewer.closeCode, 4403);
      assert.equal(viewer.output, '');
    } finally {
      await relay.close();
    }
  });

  it('a renewal token buys new access tokens (each valid for guestTokenTtlMs) for the same sandbox and is never an access token itself', async () => {
    const relay = await guestRelay({ guest: { limits: { guestTokenTtlMs: 60_000 } } });
    try {
      const grant = await requestGuestGrant(relay.url);
      const lifetime = Date.parse(grant.tokenExpiresAt) - Date.now();
      assert.ok(lifetime > 55_000 && lifetime <= 60_000, `the access token lives ${lifetime} ms, not guestTokenTtlMs`);
      const renewed = await renewGuestToken(relay.url, grant.renewal);
      assert.equal(renewed.sandbox, grant.sandbox);
      assert.equal(renewed.sandboxExpiresAt, grant.sandboxExpiresAt);
      assert.equal((await getSandbox(relay.url, grant.sandbox, { token: renewed.token }).exec('echo renewed')).stdout, 'renewed\n');
      assert.equal((await refusal(getSandbox(relay.url, grant.sandbox, { token: grant.renewal }).exec('true'))).code, 'UNAUTHORIZED');
      assert.equal((await refusal(renewGuestToken(relay.url, grant.token))).code, 'UNAUTHORIZED');
      const forged = await issueToken({ secret: `${SECRET}-not-the-relays`, sandbox: grant.sandbox, scope: 'owner', expiresIn: 600 });
      assert.equal((await refusal(renewGuestToken(relay.url, forged))).code, 'UNAUTHORIZED');
    } finally {
      await relay.close();
    }
  });

  it('guestSandboxesPerAddress and guestSandboxesPerRelay are limits; X-Forwarded-For counts only behind a trusted proxy', async () => {
    const relay = await guestRelay({ guest: { limits: { guestSandboxesPerAddress: 2, guestSandboxesPerRelay: 3 } } });
    try {
      // Three at once: the limit holds for concurrent grants too.
      const results = await Promise.allSettled([requestGuestGrant(relay.url), requestGuestGrant(relay.url), requestGuestGrant(relay.url)]);
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 2);
      const third = (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason as SandboxError;
      assert.equal(third.code, 'LIMIT_EXCEEDED');
      assert.equal(third.details?.limit, 'guestSandboxesPerAddress');
      // A forged header from a client without a trusted proxy in front changes nothing.
      assert.equal((await postGrant(relay.url, { 'x-forwarded-for': '203.0.113.7' })).status, 413);
    } finally {
      await relay.close();
    }
    const proxied = await guestRelay({ trustProxy: true, guest: { limits: { guestSandboxesPerAddress: 1, guestSandboxesPerRelay: 2 } } });
    try {
      assert.equal((await postGrant(proxied.url, { 'x-forwarded-for': 'spoofed, 203.0.113.7' })).status, 201);
      assert.equal((await postGrant(proxied.url, { 'x-forwarded-for': '203.0.113.7' })).status, 413);
      assert.equal((await postGrant(proxied.url, { 'x-forwarded-for': '203.0.113.8' })).status, 201);
      const full = await postGrant(proxied.url, { 'x-forwarded-for': '203.0.113.9' });
      assert.equal(((await full.json()) as { details: { limit: string } }).details.limit, 'guestSandboxesPerRelay');
    } finally {
      await proxied.close();
    }
  });

  it('guest sandboxes run with the guest limits and without network; other sandboxes keep the relay-wide ones', async () => {
    const recording = recordingBackend();
    const limits = { guestProcesses: 64, guestMemoryBytes: 256 * 1024 * 1024, guestCpuCores: 0.25, guestTmpBytes: 8 * 1024 * 1024, guestWorkspaceBytes: 32 * 1024 * 1024, guestSessionsPerSandbox: 1 };
    const relay = await guestRelay({ backend: recording.backend, network: true, guest: { limits } });
    try {
      const { access } = await GuestAccess.open(relay.url);
      const guest = access.client();
      await guest.createSession();
      const second = await refusal(guest.createSession());
      assert.equal(second.details?.limit, 'sessionsPerSandbox');
      const member = getSandbox(relay.url, 'member', { token: await issueToken({ secret: SECRET, sandbox: 'member', scope: 'admin', expiresIn: 600 }) });
      await member.exec('true');
      const guestSpec = recording.specs.find((spec) => spec.id === access.sandbox);
      const memberSpec = recording.specs.find((spec) => spec.id === 'member');
      assert.equal(guestSpec?.network, false);
      assert.deepEqual(guestSpec?.resources, { processes: 64, memoryBytes: 256 * 1024 * 1024, cpuCores: 0.25, tmpBytes: 8 * 1024 * 1024, workspaceBytes: 32 * 1024 * 1024 });
      assert.equal(memberSpec?.network, true);
      assert.equal(memberSpec?.resources?.tmpBytes, DEFAULT_LIMITS.sandboxTmpBytes);
      assert.equal(memberSpec?.resources?.workspaceBytes, undefined);
      assert.equal(memberSpec?.resources?.processes, 512);
    } finally {
      await relay.close();
    }
  });

  it('a guest sandbox sleeps after guestIdleTimeoutMs while the relay-wide idle timeout is long', async () => {
    const relay = await guestRelay({ idleTimeoutMs: 600_000, guest: { limits: { guestIdleTimeoutMs: 1_000 } } });
    try {
      const { access } = await GuestAccess.open(relay.url);
      const session = await access.client().createSession();
      await access.client().exec('export KEPT=yes; cd /tmp', { session });
      const runtime = () => relay.pool.runtimes().find((candidate) => candidate.id === access.sandbox);
      await waitFor(() => runtime()?.running === false, 'the guest sandbox to sleep', 15_000);
      const result = await access.client().exec('echo "$KEPT $PWD"', { session });
      assert.equal(result.stdout, 'yes /tmp\n');
      assert.equal(result.sessionRecreated, true);
    } finally {
      await relay.close();
    }
  });

  it('at the end of its lifetime a guest sandbox is deleted and renewing says GUEST_EXPIRED', async () => {
    const dataDir = join(scratch, 'lifetime');
    const relay = await guestRelay({ dataDir, guest: { limits: { guestSandboxLifetimeMs: 1_500 } } });
    try {
      const grant = await requestGuestGrant(relay.url);
      await getSandbox(relay.url, grant.sandbox, { token: grant.token }).writeFile('/workspace/work.txt', 'soon gone\n');
      assert.ok(Date.parse(grant.tokenExpiresAt) <= Date.parse(grant.sandboxExpiresAt), 'the access token outlives its sandbox');
      const sandboxDir = join(dataDir, 'sandboxes', grant.sandbox);
      assert.ok(existsSync(join(sandboxDir, 'workspace', 'work.txt')));
      await waitFor(() => !existsSync(sandboxDir), 'the guest sandbox to be removed', 10_000);
      assert.equal((await refusal(renewGuestToken(relay.url, grant.renewal))).code, 'GUEST_EXPIRED');
    } finally {
      await relay.close();
    }
  });

  it('a relay restart keeps guest sandboxes, their files and their guest settings', async () => {
    const dataDir = join(scratch, 'restart');
    const first = await guestRelay({ dataDir });
    const grant = await requestGuestGrant(first.url);
    await getSandbox(first.url, grant.sandbox, { token: grant.token }).writeFile('/workspace/kept.txt', 'kept\n');
    await first.close();
    const recording = recordingBackend();
    const second = await guestRelay({ dataDir, backend: recording.backend, network: true });
    try {
      const renewed = await renewGuestToken(second.url, grant.renewal);
      const sandbox = getSandbox(second.url, grant.sandbox, { token: renewed.token });
      assert.equal((await sandbox.exec('cat kept.txt')).stdout, 'kept\n');
      assert.equal(recording.specs.find((spec) => spec.id === grant.sandbox)?.network, false);
    } finally {
      await second.close();
    }
  });

  it('a grant may name a template; a template larger than guestWorkspaceBytes stops the relay from starting', async () => {
    const relay = await guestRelay({ templates: { tutorial: templateDir } });
    try {
      const grant = await requestGuestGrant(relay.url, { template: 'tutorial' });
      assert.equal(grant.template, 'tutorial');
      assert.equal((await getSandbox(relay.url, grant.sandbox, { token: grant.token }).exec('cat hello.txt')).stdout, 'from the template\n');
      assert.equal((await refusal(requestGuestGrant(relay.url, { template: 'missing' }))).code, 'TEMPLATE_NOT_FOUND');
    } finally {
      await relay.close();
    }
    await assert.rejects(guestRelay({ templates: { tutorial: templateDir }, guest: { limits: { guestWorkspaceBytes: 4 } } }), /more than guestWorkspaceBytes/);
  });

  it('GuestAccess comes back to the stored sandbox, and starts a fresh one once that has ended', async () => {
    const relay = await guestRelay({ guest: { limits: { guestSandboxLifetimeMs: 3_000 } } });
    try {
      let saved: GuestCredentials | undefined;
      const store: GuestStore = { load: () => saved, save: (credentials) => (saved = credentials), clear: () => (saved = undefined) };
      const first = await GuestAccess.open(relay.url, { store });
      assert.equal(first.resumed, false);
      const again = await GuestAccess.open(relay.url, { store });
      assert.equal(again.resumed, true);
      assert.equal(again.access.sandbox, first.access.sandbox);
      // The stored access token is past its renewal margin: getToken renews it through the renewal token.
      const aboutToExpire = new Date(Date.now() + 1_000).toISOString();
      saved = { ...saved!, tokenExpiresAt: aboutToExpire };
      const refreshed = await GuestAccess.open(relay.url, { store });
      assert.equal(refreshed.resumed, true);
      assert.notEqual(saved.tokenExpiresAt, aboutToExpire, 'the access token was not renewed');
      await waitFor(() => !relay.pool.runtimes().some((runtime) => runtime.id === first.access.sandbox) && Date.parse(saved!.sandboxExpiresAt) < Date.now(), 'the lifetime to end', 10_000);
      const replaced = await GuestAccess.open(relay.url, { store });
      assert.equal(replaced.resumed, false);
      assert.notEqual(replaced.access.sandbox, first.access.sandbox);
    } finally {
      await relay.close();
    }
  });
});

describe('guest mode on the command line', () => {
  it('parses --guest, --guest-network, --guest-limit and --template, and names what is wrong', () => {
    assert.deepEqual(parseGuestConfig({ guest: true, 'guest-limit': ['guestProcesses=32', 'guestCpuCores=0.5'], template: ['intro=./t'] }, {}), {
      templates: { intro: './t' },
      guest: { limits: { guestProcesses: 32, guestCpuCores: 0.5 } },
    });
    assert.deepEqual(parseGuestConfig({}, { RELAY_GUEST: '1', RELAY_GUEST_NETWORK: 'on', RELAY_TEMPLATES: 'a=/x, b=/y', RELAY_TRUST_PROXY: 'true' }), {
      templates: { a: '/x', b: '/y' },
      guest: { network: true },
      trustProxy: true,
    });
    assert.throws(() => parseGuestConfig({ guest: true, 'guest-limit': ['guestNope=1'] }, {}), /no guest limit named "guestNope"/);
    assert.throws(() => parseGuestConfig({ guest: true, 'guest-limit': ['guestProcesses=1.5'] }, {}), /whole number/);
    assert.throws(() => parseGuestConfig({ 'guest-limit': ['guestProcesses=1'] }, {}), /need --guest/);
    assert.throws(() => parseGuestConfig({ template: ['nodir'] }, {}), /--template takes name=value/);
    assert.equal(Object.keys(DEFAULT_GUEST_LIMITS).length, 11);
  });
});
