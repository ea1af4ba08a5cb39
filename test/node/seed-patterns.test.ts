// Every pattern of the session management guide (../shared/seed/session-management-guide.md), written the way the
// guide writes it, against a real relay through the client SDK.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { startRelay, waitFor } from './helpers.ts';

const env = await startRelay();
after(() => env.close());

/** The guide's Technique 3, verbatim but typed: a session is valid when `echo ok` runs in it. */
async function isSessionValid(sandbox: Sandbox, sessionId: string): Promise<boolean> {
  try {
    const result = await sandbox.exec('echo ok', { session: sessionId, timeout: 5000 });
    return result.success && result.stdout.includes('ok');
  } catch {
    return false;
  }
}

/** The guide's Technique 1. */
class SessionPool {
  private sessions: string[] = [];
  private sandbox: Sandbox;

  constructor(sandbox: Sandbox) {
    this.sandbox = sandbox;
  }

  async getSession(): Promise<string> {
    if (this.sessions.length === 0) {
      return await this.sandbox.createSession();
    }
    return this.sessions.pop()!;
  }

  releaseSession(sessionId: string) {
    this.sessions.push(sessionId);
  }
}

type SessionState = {
  id: string;
  workingDir: string;
  envVars: Record<string, string>;
  setupComplete: boolean;
};

/** The guide's Technique 2, with the "Parse and store" step filled in. */
async function trackSessionState(sandbox: Sandbox, state: SessionState): Promise<SessionState> {
  const pwdResult = await sandbox.exec('pwd', { session: state.id });
  state.workingDir = pwdResult.stdout.trim();
  const envResult = await sandbox.exec('env', { session: state.id });
  state.envVars = {};
  for (const line of envResult.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) state.envVars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return state;
}

describe('seed guide patterns', () => {
  // One sandbox for the patterns, as one user's container; the session pool and the idle test use their own.
  const sandbox = env.sandbox();

  it('multi-step workflow: steps after `mkdir && cd` run in that directory, and a script written there runs there', async () => {
    const sessionId = await sandbox.createSession();

    const setup = await sandbox.exec('mkdir myproject && cd myproject', { session: sessionId });
    assert.equal(setup.exitCode, 0, setup.stderr);
    // Stand-in for `npm init -y`: writes into the current directory, which must be myproject/.
    const init = await sandbox.exec(`printf '{"name":"myproject","version":"1.0.0"}\\n' > package.json && pwd`, { session: sessionId });
    assert.equal(init.stdout, '/workspace/myproject\n');
    assert.equal(await sandbox.exists('/workspace/myproject/package.json'), true);
    assert.equal(await sandbox.exists('/workspace/package.json'), false);

    await sandbox.writeFile('/workspace/myproject/build.sh', 'echo "built $(basename "$PWD") from $(cat package.json)"\n');
    const run = await sandbox.exec('bash build.sh', { session: sessionId });
    assert.equal(run.stdout, 'built myproject from {"name":"myproject","version":"1.0.0"}\n');

    // The guide's `node index.js` step, with whichever interpreter the sandbox has (the host's /usr is bound read-only).
    const interpreters = await sandbox.exec('command -v node; command -v python3; true', { session: sessionId });
    const has = (name: string) => interpreters.stdout.split('\n').some((line) => line.endsWith(`/${name}`));
    if (has('node')) {
      await sandbox.writeFile('/workspace/myproject/index.js', "console.log(process.cwd(), JSON.parse(require('fs').readFileSync('package.json', 'utf8')).name)\n");
      const node = await sandbox.exec('node index.js', { session: sessionId });
      assert.equal(node.stdout, '/workspace/myproject myproject\n', node.stderr);
    }
    if (has('python3')) {
      await sandbox.writeFile('/workspace/myproject/index.py', "import json, os\nprint(os.getcwd(), json.load(open('package.json'))['name'])\n");
      const python = await sandbox.exec('python3 index.py', { session: sessionId });
      assert.equal(python.stdout, '/workspace/myproject myproject\n', python.stderr);
    }
  });

  it('chat-based agent: a later message reaches the stored session through a new sandbox object and sees its context', async () => {
    const kv = new Map<string, string>();
    type Conversation = { sandboxId: string; sessionId: string; workingDir: string };

    // First message: create the conversation and store it.
    const firstSandbox = getSandbox(env.relay.url, `user-${process.pid}-chat`);
    const conversation: Conversation = { sandboxId: firstSandbox.id, sessionId: await firstSandbox.createSession(), workingDir: '/workspace' };
    kv.set('conversation:c1', JSON.stringify(conversation));

    const message = async (userCommand: string) => {
      const conv = JSON.parse(kv.get('conversation:c1')!) as Conversation;
      const sandbox = getSandbox(env.relay.url, conv.sandboxId);
      return sandbox.exec(userCommand, { session: conv.sessionId });
    };

    await message('mkdir -p app && cd app');
    await message('export GREETING=hello; shout() { echo "${1^^}"; }');
    await message('echo "remember me" > notes.txt');
    const later = await message('pwd; echo $GREETING; shout $GREETING; cat notes.txt');
    assert.equal(later.stdout, '/workspace/app\nhello\nHELLO\nremember me\n');
    assert.equal(later.sessionRecreated, false);
  });

  it('parallel execution: three sessions run at once, each returning its own result', async () => {
    for (const task of ['train', 'test', 'validate']) {
      await sandbox.writeFile(`/workspace/${task}.sh`, `date +%s.%N; sleep 1; echo "${task}: $STAGE in $PWD"; date +%s.%N\n`);
    }
    const session1 = await sandbox.createSession({ env: { STAGE: 'one' } });
    const session2 = await sandbox.createSession({ env: { STAGE: 'two' } });
    const session3 = await sandbox.createSession({ env: { STAGE: 'three' } });

    const [train, test, validate] = await Promise.all([
      sandbox.exec('bash train.sh', { session: session1, timeout: 30_000 }),
      sandbox.exec('bash test.sh', { session: session2, timeout: 30_000 }),
      sandbox.exec('bash validate.sh', { session: session3, timeout: 30_000 }),
    ]);

    const lines = [train, test, validate].map((result) => result.stdout.trim().split('\n'));
    assert.deepEqual(
      lines.map((parts) => parts[1]),
      ['train: one in /workspace', 'test: two in /workspace', 'validate: three in /workspace'],
    );
    const latestStart = Math.max(...lines.map((parts) => Number(parts[0])));
    const earliestEnd = Math.min(...lines.map((parts) => Number(parts[2])));
    assert.ok(latestStart < earliestEnd, `the three ran at the same time (last start ${latestStart} < first end ${earliestEnd})`);
  });

  it('environment isolation: two sessions exporting different NODE_ENV each see, and pass on, their own', async () => {
    const prodSession = await sandbox.createSession();
    const devSession = await sandbox.createSession();

    await sandbox.exec('export NODE_ENV=production', { session: prodSession });
    await sandbox.exec('export NODE_ENV=development', { session: devSession });

    // A child process (as `npm run build` would be) inherits the session's export.
    const build = 'bash -c \'echo "building for $NODE_ENV"\'';
    const [prod, dev] = await Promise.all([sandbox.exec(build, { session: prodSession }), sandbox.exec(build, { session: devSession })]);
    assert.equal(prod.stdout, 'building for production\n');
    assert.equal(dev.stdout, 'building for development\n');

    const outside = await sandbox.exec('echo "${NODE_ENV-unset}"');
    assert.equal(outside.stdout, 'unset\n');
  });

  it('without a session each exec is a new shell: cd and export do not carry over', async () => {
    await sandbox.exec('mkdir -p /workspace/project');
    const cd = await sandbox.exec('cd /workspace/project && pwd');
    assert.equal(cd.stdout, '/workspace/project\n');
    await sandbox.exec('export API_KEY=abc123');
    const build = await sandbox.exec('pwd; echo "${API_KEY-unset}"');
    assert.equal(build.stdout, '/workspace\nunset\n');

    // The guide's fix: the same three steps in one session keep their state.
    const sessionId = await sandbox.createSession();
    await sandbox.exec('cd /workspace/project', { session: sessionId });
    await sandbox.exec('export API_KEY=abc123', { session: sessionId });
    const fixed = await sandbox.exec('pwd; echo "${API_KEY-unset}"', { session: sessionId });
    assert.equal(fixed.stdout, '/workspace/project\nabc123\n');
  });

  it('session pool: a released session is handed out again with its state, an empty pool creates a new one', async () => {
    const sandbox = env.sandbox();
    const pool = new SessionPool(sandbox);

    const first = await pool.getSession();
    await sandbox.exec('cd /tmp && export POOLED=warm', { session: first });
    pool.releaseSession(first);

    const reused = await pool.getSession();
    assert.equal(reused, first);
    const state = await sandbox.exec('pwd; echo $POOLED', { session: reused });
    assert.equal(state.stdout, '/tmp\nwarm\n');

    // The pool is empty while `reused` is out: the next caller gets a fresh session of its own.
    const second = await pool.getSession();
    assert.notEqual(second, reused);
    const fresh = await sandbox.exec('pwd; echo "${POOLED-unset}"', { session: second });
    assert.equal(fresh.stdout, '/workspace\nunset\n');

    pool.releaseSession(second);
    pool.releaseSession(reused);
    assert.equal(await pool.getSession(), reused);
    assert.equal(await pool.getSession(), second);
    assert.deepEqual((await sandbox.listSessions()).map((info) => info.id).sort(), [first, second].sort());
  });

  it('state tracking: the pwd and env read back from a session are what was set in it', async () => {
    const id = await sandbox.createSession();
    await sandbox.exec('mkdir -p /workspace/tracked/dir && cd /workspace/tracked/dir', { session: id });
    await sandbox.exec("export TRACK_MODE=release TRACK_NOTE='two words = fine'", { session: id });

    const state = await trackSessionState(sandbox, { id, workingDir: '', envVars: {}, setupComplete: false });
    assert.equal(state.workingDir, '/workspace/tracked/dir');
    assert.equal(state.envVars.TRACK_MODE, 'release');
    assert.equal(state.envVars.TRACK_NOTE, 'two words = fine');
    assert.equal(state.envVars.HOME, '/workspace');
    // The relay tracks the same cwd for the session.
    assert.equal((await sandbox.getSession(id)).cwd, '/workspace/tracked/dir');
  });

  it("session validation: live sessions are valid, deleted, exited and unknown ones are not, and the guide's fallback gives a working session", async () => {
    const live = await sandbox.createSession();
    assert.equal(await isSessionValid(sandbox, live), true);
    assert.equal(await sandbox.isSessionValid(live), true);

    const deleted = await sandbox.createSession();
    await sandbox.deleteSession(deleted);
    assert.equal(await isSessionValid(sandbox, deleted), false);
    assert.equal(await sandbox.isSessionValid(deleted), false);

    const exited = await sandbox.createSession();
    await sandbox.exec('exit 4', { session: exited });
    assert.equal(await isSessionValid(sandbox, exited), false);
    assert.equal(await sandbox.isSessionValid(exited), false);

    assert.equal(await isSessionValid(sandbox, 'never-created'), false);
    assert.equal(await sandbox.isSessionValid('never-created'), false);

    // Mistake 2's fix: a stored id that is no longer valid is replaced by a new session.
    const kv = new Map<string, string>([['session:user-1', deleted]]);
    let sessionId = kv.get('session:user-1');
    if (!sessionId || !(await isSessionValid(sandbox, sessionId))) {
      sessionId = await sandbox.createSession();
      kv.set('session:user-1', sessionId);
    }
    assert.notEqual(sessionId, deleted);
    const works = await sandbox.exec('cd /tmp && pwd', { session: kv.get('session:user-1')! });
    assert.equal(works.stdout, '/tmp\n');
    assert.equal(await sandbox.isSessionValid(sessionId), true);
  });

  it('a session used after its sandbox went idle is recreated with its cwd and exported variables', async () => {
    const idle = await startRelay({ idleTimeoutMs: 1000 });
    try {
      const sandbox = idle.sandbox();
      const sessionId = await sandbox.createSession();
      await sandbox.exec('mkdir -p /workspace/deep/work && cd /workspace/deep/work', { session: sessionId });
      await sandbox.exec("export SECRET_TOKEN='keep me' COUNT=3", { session: sessionId });

      // Status reads do not count as activity, so polling getSession lets the sandbox go to sleep.
      await waitFor(async () => (await sandbox.getSession(sessionId)).status === 'sleeping', 'the session to sleep after 1 s idle');
      const runtime = idle.relay.pool.runtimes().find((candidate) => candidate.id === sandbox.id);
      assert.equal(runtime?.running, false, 'the sandbox itself stopped');
      assert.equal(await sandbox.isSessionValid(sessionId), true, 'a sleeping session is still valid (it can be recreated)');

      // The id stored before the idle period, used through a new sandbox object as a later request would.
      const later = getSandbox(idle.relay.url, sandbox.id);
      const result = await later.exec('pwd; echo "$SECRET_TOKEN/$COUNT"', { session: sessionId });
      assert.equal(result.sessionRecreated, true);
      assert.equal(result.stdout, '/workspace/deep/work\nkeep me/3\n');
      assert.equal((await later.getSession(sessionId)).status, 'active');

      const next = await later.exec('echo again', { session: sessionId });
      assert.equal(next.sessionRecreated, false, 'only the first call after the sleep says it was recreated');
    } finally {
      await idle.close();
    }
  });

  it('a deleted session id is refused with SESSION_NOT_FOUND, not answered by a silent fresh shell', async () => {
    const sessionId = await sandbox.createSession();
    await sandbox.deleteSession(sessionId);
    await assert.rejects(sandbox.exec('ls', { session: sessionId }), (error: unknown) => error instanceof SandboxError && error.code === 'SESSION_NOT_FOUND');
  });
});
