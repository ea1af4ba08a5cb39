// The session management guide's patterns (shared/seed/session-management-guide.md) as an application on Cloudflare
// Sandbox SDK 0.12 writes them (session objects: `const session = await sandbox.createSession(); session.exec(…)`),
// run against a real relay through the thin adapter of docs/migrating-from-cloudflare.md.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cloudflareCompatible, type CompatSandbox, type CompatSession } from './cloudflare-0x-adapter.ts';
import { startRelay } from './helpers.ts';

const env = await startRelay();
after(() => env.close());

/** `getSandbox(env.Sandbox, id)` in a Worker; here the relay's client wrapped in 0.12's shapes. */
function getSandbox(options?: { defaultSession?: boolean }): CompatSandbox {
  return cloudflareCompatible(env.sandbox(), options);
}

describe('seed guide patterns in the Sandbox SDK 0.x style, through the adapter', () => {
  it('multi-step workflow: each step runs where the last one left the session', async () => {
    const sandbox = getSandbox();
    const session = await sandbox.createSession();
    await session.exec('mkdir myproject && cd myproject');
    const init = await session.exec(`printf '{"name":"myproject"}\\n' > package.json && pwd`);
    assert.equal(init.stdout, '/workspace/myproject\n');
    assert.equal(init.sessionId, session.id);
    assert.equal(typeof init.duration, 'number');
    await session.writeFile('/workspace/myproject/index.sh', 'echo "running in $(basename "$PWD")"\n');
    const run = await session.exec('bash index.sh');
    assert.equal(run.success, true);
    assert.equal(run.stdout, 'running in myproject\n');
  });

  it('chat-based agent: the conversation keeps its session id, and later messages see earlier state', async () => {
    const kv = new Map<string, string>();
    const sandbox = getSandbox();
    const conversation = { sandboxId: 'user-1', sessionId: (await sandbox.createSession()).id, workingDir: '/workspace' };
    kv.set('conversation:1', JSON.stringify(conversation));
    await (await sandbox.getSession(conversation.sessionId)).exec('mkdir -p app && cd app && export STEP=1');

    const stored = JSON.parse(kv.get('conversation:1')!) as typeof conversation;
    const session = await sandbox.getSession(stored.sessionId);
    const reply = await session.exec('echo "step $STEP in $(pwd)"');
    assert.equal(reply.stdout, 'step 1 in /workspace/app\n');
  });

  it('parallel execution: three sessions run at once, each with its own timeout, none waiting for another', async () => {
    const sandbox = getSandbox();
    const [train, test, validate] = await Promise.all([sandbox.createSession(), sandbox.createSession(), sandbox.createSession()]);
    const started = Date.now();
    const results = await Promise.all([
      train.exec('sleep 1; echo trained', { timeout: 30_000 }),
      test.exec('sleep 1; echo tested', { timeout: 10_000 }),
      validate.exec('sleep 1; echo validated', { timeout: 10_000 }),
    ]);
    assert.deepEqual(results.map((result) => result.stdout.trim()), ['trained', 'tested', 'validated']);
    assert.ok(Date.now() - started < 2_900, `ran one after another (${Date.now() - started} ms)`);
  });

  it('environment isolation: two sessions, two NODE_ENVs', async () => {
    const sandbox = getSandbox();
    const prod = await sandbox.createSession();
    const dev = await sandbox.createSession();
    await prod.exec('export NODE_ENV=production');
    await dev.exec('export NODE_ENV=development');
    assert.equal((await prod.exec('echo $NODE_ENV')).stdout, 'production\n');
    assert.equal((await dev.exec('echo $NODE_ENV')).stdout, 'development\n');
  });

  it('without a session: with enableDefaultSession off (the guide\'s model) each exec is a fresh shell', async () => {
    const sandbox = getSandbox({ defaultSession: false });
    await sandbox.exec('mkdir -p /workspace/project && cd /workspace/project && export API_KEY=abc123');
    const build = await sandbox.exec('echo "$(pwd) [$API_KEY]"');
    assert.equal(build.stdout, '/workspace []\n');
  });

  it('without a session: 0.12\'s default session (its default) carries cd and export from one exec to the next', async () => {
    const sandbox = getSandbox();
    await sandbox.exec('mkdir -p /workspace/project && cd /workspace/project && export API_KEY=abc123');
    const build = await sandbox.exec('echo "$(pwd) [$API_KEY]"');
    assert.equal(build.stdout, '/workspace/project [abc123]\n');
  });

  it('session pool: released sessions are handed out again, with their state', async () => {
    class SessionPool {
      private sessions: CompatSession[] = [];
      constructor(private sandbox: CompatSandbox) {}
      async getSession(): Promise<CompatSession> {
        return this.sessions.pop() ?? (await this.sandbox.createSession());
      }
      releaseSession(session: CompatSession) {
        this.sessions.push(session);
      }
    }
    const pool = new SessionPool(getSandbox());
    const first = await pool.getSession();
    await first.exec('export POOLED=yes');
    pool.releaseSession(first);
    const again = await pool.getSession();
    assert.equal(again.id, first.id);
    assert.equal((await again.exec('echo $POOLED')).stdout, 'yes\n');
  });

  it('session state tracking: pwd and env read back from the session', async () => {
    const sandbox = getSandbox();
    await sandbox.mkdir('/workspace/tracked', { recursive: true });
    // 0.12 took any cwd; here it must be inside /workspace (the sandbox's files), like every path the relay takes.
    const session = await sandbox.createSession({ env: { PROJECT: 'tracked' }, cwd: '/workspace/tracked' });
    const state = { workingDir: (await session.exec('pwd')).stdout.trim(), envVars: {} as Record<string, string> };
    for (const line of (await session.exec('env')).stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) state.envVars[line.slice(0, eq)] = line.slice(eq + 1);
    }
    assert.equal(state.workingDir, '/workspace/tracked');
    assert.equal(state.envVars.PROJECT, 'tracked');
  });

  it('"reusing a session id after the container went idle": on 0.x it failed; here it comes back, recreated, where it was', async () => {
    const client = env.sandbox();
    const sandbox = cloudflareCompatible(client);
    const session = await sandbox.createSession();
    await session.exec('mkdir -p /workspace/kept && cd /workspace/kept && export KEPT=1');
    await env.relay.sleepSandbox(client.id);
    // The guide's isSessionValid, unchanged: it now says yes, and the shell is where it was.
    const result = await (await sandbox.getSession(session.id)).exec('echo ok; pwd; echo $KEPT', { timeout: 5000 });
    assert.equal(result.success && result.stdout.includes('ok'), true);
    assert.equal(result.sessionRecreated, true);
    assert.equal(result.stdout, 'ok\n/workspace/kept\n1\n');
  });

  it('streaming: 0.12\'s onOutput callback gets the output as it comes, and the result at the end', async () => {
    const session = await getSandbox().createSession();
    const chunks: string[] = [];
    const result = await session.exec('for i in 1 2 3; do echo line-$i; done; echo oops >&2', { onOutput: (stream, data) => chunks.push(`${stream}:${data}`) });
    assert.equal(result.stdout, 'line-1\nline-2\nline-3\n');
    assert.equal(result.stderr, 'oops\n');
    assert.ok(chunks.some((chunk) => chunk.startsWith('stdout:line-1')), chunks.join('|'));
    assert.ok(chunks.includes('stderr:oops\n'), chunks.join('|'));
  });

  it('deleteSession ends it: its id is refused afterwards, never a silent new shell', async () => {
    const sandbox = getSandbox();
    const session = await sandbox.createSession();
    assert.equal((await sandbox.deleteSession(session.id)).success, true);
    await assert.rejects(session.exec('true'), { code: 'SESSION_NOT_FOUND' });
  });

  it('files: writeFile and readFile, text and base64', async () => {
    const sandbox = getSandbox();
    await sandbox.writeFile('/workspace/notes/a.txt', 'hello\n');
    assert.equal((await sandbox.readFile('/workspace/notes/a.txt')).content, 'hello\n');
    await sandbox.writeFile('/workspace/notes/b.bin', btoa('\u0000\u0001binary'), { encoding: 'base64' });
    const read = await sandbox.readFile('/workspace/notes/b.bin', { encoding: 'base64' });
    assert.equal(atob(read.content), '\u0000\u0001binary');
    assert.equal((await sandbox.exists('/workspace/notes/a.txt')).exists, true);
  });
});
