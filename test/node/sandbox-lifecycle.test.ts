// Whole sandboxes: PUT /v1/sandboxes/:id starts a workspace from a relay template (--template NAME=DIR), DELETE resets
// it. Real relay, real backend (bubblewrap where it works), real bash.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BubblewrapBackend, DEFAULT_SANDBOX_IDS, UnisolatedBackend, createRelay, issueToken, type SandboxBackend, type SandboxInstance, type SandboxSpec } from '@sandbox-terminal/server';
import { getSandbox, SandboxError } from '@sandbox-terminal/client';
import { TERMINAL_CLOSE_CODES } from '@sandbox-terminal/protocol';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

const TEST_TIMEOUT_MS = 60_000;
const SECRET = 'lifecycle-test-secret-long-enough-for-hs256-0123456789';

let scratch: string;
let templateDir: string;
let otherTemplateDir: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sandbox-lifecycle-test-'));
  templateDir = join(scratch, 'tutorial');
  otherTemplateDir = join(scratch, 'other');
  await mkdir(join(templateDir, 'bin'), { recursive: true });
  await mkdir(join(templateDir, 'src', 'deep'), { recursive: true });
  await mkdir(otherTemplateDir);
  await writeFile(join(templateDir, 'README.md'), '# Tutorial\n');
  await writeFile(join(templateDir, 'bin', 'run.sh'), '#!/bin/sh\necho "ran from $PWD"\n');
  await chmod(join(templateDir, 'bin', 'run.sh'), 0o755);
  await writeFile(join(templateDir, 'src', 'deep', 'app.py'), 'print("hello")\n');
  await writeFile(join(otherTemplateDir, 'other.txt'), 'other\n');
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<SandboxError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof SandboxError, `expected ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

/** The real backend, with every start and stop recorded (and a stop that can be held back). */
function recordingBackend() {
  const real: SandboxBackend = BubblewrapBackend.probe(DEFAULT_SANDBOX_IDS).ok ? new BubblewrapBackend({ ids: DEFAULT_SANDBOX_IDS, network: { allow: [] } }) : new UnisolatedBackend();
  const specs: SandboxSpec[] = [];
  const stops: Array<{ workspaceExisted: boolean; alive: boolean | undefined }> = [];
  let holdStop: Promise<void> | undefined;
  const backend: SandboxBackend = {
    name: real.name,
    isolated: real.isolated,
    ...(real.ids ? { ids: real.ids } : {}),
    async start(spec) {
      specs.push(spec);
      const instance = await real.start(spec);
      const stop = async () => {
        await holdStop;
        await instance.stop();
        stops.push({ workspaceExisted: existsSync(spec.workspaceDir), alive: undefined });
        // What the relay waits for before it may remove the workspace: poll as it does, record when it saw it.
        const record = stops.at(-1)!;
        const watch = setInterval(() => {
          if (!existsSync(spec.workspaceDir) && record.alive === undefined) record.alive = instance.alive?.() ?? false;
        }, 1);
        setTimeout(() => clearInterval(watch), 5_000).unref();
      };
      return new Proxy(instance, {
        get: (target, property) => {
          if (property === 'stop') return stop;
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      }) as SandboxInstance;
    },
  };
  return { backend, specs, stops, hold: (gate: Promise<void> | undefined) => (holdStop = gate) };
}

describe('sandbox templates (PUT /v1/sandboxes/:id)', { timeout: TEST_TIMEOUT_MS }, () => {
  it('a sandbox prepared from a template has its files, directories and executables', async () => {
    const relay = await startRelay({ templates: { tutorial: templateDir } });
    try {
      const sandbox = relay.sandbox();
      assert.deepEqual(await sandbox.create({ template: 'tutorial' }), { id: sandbox.id, template: 'tutorial', created: true });
      const result = await sandbox.exec('cat README.md src/deep/app.py && test -x bin/run.sh && ./bin/run.sh && test ! -x README.md && echo plain');
      assert.equal(result.stdout, '# Tutorial\nprint("hello")\nran from /workspace\nplain\n', result.stderr);
    } finally {
      await relay.close();
    }
  });

  it('preparing again from the same template changes nothing; another template or a used workspace is SANDBOX_EXISTS', async () => {
    const relay = await startRelay({ templates: { tutorial: templateDir, other: otherTemplateDir } });
    try {
      const sandbox = relay.sandbox();
      await sandbox.create({ template: 'tutorial' });
      await sandbox.writeFile('/workspace/README.md', 'my notes\n');
      assert.deepEqual(await sandbox.create({ template: 'tutorial' }), { id: sandbox.id, template: 'tutorial', created: false });
      assert.equal(await sandbox.readFile('/workspace/README.md'), 'my notes\n', 'a second prepare overwrote what the reader wrote');
      await expectCode(sandbox.create({ template: 'other' }), 'SANDBOX_EXISTS');

      const used = relay.sandbox();
      await used.writeFile('/workspace/mine.txt', 'mine\n');
      await expectCode(used.create({ template: 'tutorial' }), 'SANDBOX_EXISTS');
      assert.equal(await used.exists('/workspace/README.md'), false);
    } finally {
      await relay.close();
    }
  });

  it('an unknown template is TEMPLATE_NOT_FOUND, and a template that is not a directory stops the relay from starting', async () => {
    const relay = await startRelay({ templates: { tutorial: templateDir } });
    try {
      const error = await expectCode(relay.sandbox().create({ template: 'nope' }), 'TEMPLATE_NOT_FOUND');
      assert.deepEqual(error.details?.templates, ['tutorial']);
      await expectCode(relay.sandbox().create({ template: '../etc' }), 'BAD_REQUEST');
    } finally {
      await relay.close();
    }
    await assert.rejects(createRelay({ port: 0, logger: 'silent', templates: { broken: join(scratch, 'missing') } }), /template broken: .* is not a directory/);
    await assert.rejects(createRelay({ port: 0, logger: 'silent', templates: { 'bad/name': templateDir } }), /template name/);
  });
});

describe('deleting a sandbox (DELETE /v1/sandboxes/:id)', { timeout: TEST_TIMEOUT_MS }, () => {
  it('ends its sessions and viewers, stops its processes before its workspace goes, and the id starts empty', async () => {
    const recording = recordingBackend();
    const relay = await startRelay({ backend: recording.backend });
    try {
      const sandbox = relay.sandbox();
      const session = await sandbox.createSession();
      await sandbox.exec('echo kept > notes.txt; (sleep 300 &) ; echo started', { session });
      const viewer = await TerminalClient.open(sandbox, session);
      await sandbox.delete();
      await waitFor(() => viewer.closeCode !== undefined, 'the viewer to be closed');
      assert.equal(viewer.closeCode, TERMINAL_CLOSE_CODES.SESSION_DELETED);
      await waitFor(() => recording.stops[0]?.alive !== undefined, 'the workspace to be removed');
      assert.deepEqual(recording.stops, [{ workspaceExisted: true, alive: false }], 'the sandbox was not stopped (with its processes gone) before its workspace was removed');
      await expectCode(sandbox.exec('true', { session }), 'SESSION_NOT_FOUND');
      assert.deepEqual(await sandbox.listSessions(), []);
      assert.equal(await sandbox.exists('/workspace/notes.txt'), false);
      const fresh = await sandbox.exec('ls -A /workspace; pgrep -f "sleep [3]00" || echo no-sleep');
      assert.equal(fresh.stdout, 'no-sleep\n');
    } finally {
      await relay.close();
    }
  });

  it('after a reset the sandbox starts from its template again', async () => {
    const relay = await startRelay({ templates: { tutorial: templateDir } });
    try {
      const sandbox = relay.sandbox();
      await sandbox.create({ template: 'tutorial' });
      await sandbox.exec('rm README.md && echo mine > mine.txt');
      await sandbox.delete();
      assert.deepEqual(await sandbox.create({ template: 'tutorial' }), { id: sandbox.id, template: 'tutorial', created: true });
      assert.equal((await sandbox.exec('ls -A')).stdout, 'README.md\nbin\nsrc\n');
    } finally {
      await relay.close();
    }
  });

  it('calls naming the sandbox while it is being deleted get SANDBOX_DELETING', async () => {
    const recording = recordingBackend();
    const relay = await startRelay({ backend: recording.backend });
    try {
      const sandbox = relay.sandbox();
      await sandbox.exec('true');
      let release!: () => void;
      recording.hold(new Promise<void>((resolve) => (release = resolve)));
      const deleting = sandbox.delete();
      await waitFor(async () => (await sandbox.exec('true').then(() => undefined, (error: unknown) => error)) instanceof SandboxError, 'a refused call');
      await expectCode(sandbox.exec('true'), 'SANDBOX_DELETING');
      await expectCode(sandbox.delete(), 'SANDBOX_DELETING');
      release();
      await deleting;
      recording.hold(undefined);
      assert.equal((await sandbox.exec('echo back')).stdout, 'back\n');
    } finally {
      await relay.close();
    }
  });

  it('needs the owner scope; admin may prepare', async () => {
    const relay = await startRelay({ secret: SECRET, templates: { tutorial: templateDir } });
    try {
      const as = async (scope: 'admin' | 'owner') => getSandbox(relay.relay.url, 'scoped', { token: await issueToken({ secret: SECRET, sandbox: 'scoped', scope, expiresIn: 600 }) });
      const admin = await as('admin');
      assert.equal((await admin.create({ template: 'tutorial' })).created, true);
      const refused = await expectCode(admin.delete(), 'FORBIDDEN');
      assert.match(refused.message, /owner/);
      const other = getSandbox(relay.relay.url, 'another', { token: await issueToken({ secret: SECRET, sandbox: 'scoped', scope: 'owner', expiresIn: 600 }) });
      await expectCode(other.delete(), 'FORBIDDEN');
      await (await as('owner')).delete();
      assert.equal(await admin.exists('/workspace/README.md'), false);
    } finally {
      await relay.close();
    }
  });
});
