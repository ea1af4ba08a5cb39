// The sandbox as a boundary, tried as an attacker would (issue 15): each test is an attack that worked when sandbox
// root was host root, the files API resolved paths by name and sandboxes shared the host's network, and must fail now.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueToken } from '@sandbox-terminal/server';
import { SandboxError, getSandbox, type Sandbox } from '@sandbox-terminal/client';
import { hostPidsRunning, spawnRelayProcess, startRelay, waitFor } from './helpers.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'boundary-data-'));
const env = await startRelay({ dataDir });
after(async () => {
  await env.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const ATTACK_TIMEOUT_MS = 120_000;

async function run(sandbox: Sandbox, command: string, session?: string): Promise<string> {
  const result = await sandbox.exec(command, { ...(session ? { session } : {}), timeout: 60_000 });
  assert.equal(result.exitCode, 0, `${command}\n${result.stderr}`);
  return result.stdout;
}

function hostIPv4Addresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((entry) => entry.family === 'IPv4').map((entry) => entry.address);
}

/** A TCP service on the host that greets whoever connects: what sandbox code must not reach. */
async function greetingServer(host: string, greeting: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end(`${greeting}\n`));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Shell lines that print `REACHED host:port` for every target a sandbox manages to connect to. */
function connectProbes(targets: string[]): string {
  return targets
    .map((target) => {
      const [host, port] = target.split(':');
      return `if timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then echo "REACHED ${target}"; fi`;
    })
    .join('\n');
}

// System call numbers of the calls the filter refuses, with one it allows (getpid) as the control.
const SYSCALLS: Record<string, Record<string, number>> = {
  x64: { getpid: 39, keyctl: 250, add_key: 248, bpf: 321, perf_event_open: 298, userfaultfd: 323, io_uring_setup: 425, unshare: 272, setns: 308, mount: 165, fsopen: 430, open_tree: 428, init_module: 175, finit_module: 313, kexec_load: 246, clock_settime: 227, settimeofday: 164, acct: 163, open_by_handle_at: 304, process_vm_readv: 310, kcmp: 312, clone3: 435 },
  arm64: { getpid: 172, keyctl: 219, add_key: 217, bpf: 280, perf_event_open: 241, userfaultfd: 282, io_uring_setup: 425, unshare: 97, setns: 268, mount: 40, fsopen: 430, open_tree: 428, init_module: 105, finit_module: 273, kexec_load: 104, clock_settime: 112, settimeofday: 170, acct: 89, open_by_handle_at: 265, process_vm_readv: 270, kcmp: 272, clone3: 435 },
};

describe('the sandbox is a boundary', () => {
  describe('host root through the kernel', () => {
    const sandbox = env.sandbox();
    let session: string;
    before(async () => {
      session = await sandbox.createSession();
    });

    it('root inside is an unprivileged host user: the id maps start above 0 and a sandbox process runs as that uid on the host', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const maps = await run(sandbox, 'cat /proc/self/uid_map /proc/self/gid_map; id -u', session);
      const [uidLine, gidLine, inside] = maps.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number));
      assert.equal(inside![0], 0, 'root inside');
      assert.equal(uidLine![0], 0);
      assert.ok(uidLine![1]! >= 1000, `uid 0 inside is host uid ${uidLine![1]}`);
      assert.ok(gidLine![1]! >= 1000, `gid 0 inside is host gid ${gidLine![1]}`);
      assert.ok(uidLine![2]! > 1, 'more than one id is mapped (chown inside works)');

      const marker = `sleep ${4000 + Math.floor(Math.random() * 1000)}.25`;
      await run(sandbox, `${marker} >/dev/null 2>&1 &`, session);
      const [pid] = await waitFor(() => (hostPidsRunning(marker).length ? hostPidsRunning(marker) : undefined), 'the marker process on the host');
      const uids = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.split(/\s+/).map(Number);
      assert.deepEqual(uids, [uidLine![1], uidLine![1], uidLine![1], uidLine![1]], 'real, effective, saved and fs uid of a sandbox process on the host');
      await run(sandbox, `pkill -f '^${marker}$'; true`, session);
    });

    it('kernel settings cannot be written from inside: writing back the value just read fails for every probe', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const sysctls = ['kernel/core_pattern', 'kernel/modprobe', 'kernel/core_uses_pid', 'vm/overcommit_memory', 'vm/drop_caches', 'fs/protected_symlinks', 'net/ipv4/ip_forward'];
      const hostBefore = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
      // Writes back exactly what it read, so even where it succeeded it would change nothing on the host.
      const probe = sysctls.map((name) => `f=/proc/sys/${name}; if [ -e $f ]; then [ -w $f ] && echo "WRITABLE $name"; v=$(cat $f 2>/dev/null) && printf '%s\\n' "$v" > $f 2>/dev/null && echo "WROTE $name"; fi`).join('\n');
      const kernel = ['/proc/sysrq-trigger', '/sys/kernel/mm/transparent_hugepage/enabled', '/sys/power/state', '/proc/irq/default_smp_affinity'].map((path) => `[ -w ${path} ] && echo "WRITABLE ${path}"`).join('\n');
      const result = await sandbox.exec(`${probe}\n${kernel}\ntest -r /proc/sys/kernel/core_pattern && echo readable`, { session });
      assert.equal(result.stdout, 'readable\n', `kernel settings writable inside:\n${result.stdout}`);
      assert.equal(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), hostBefore, 'the host core_pattern is unchanged');
    });

    it('a seccomp filter refuses what container runtimes refuse, with no_new_privs on and a small bounding set', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const status = await run(sandbox, "grep -E '^(Seccomp|NoNewPrivs|CapBnd|CapEff|CapAmb):' /proc/self/status", session);
      assert.match(status, /^Seccomp:\s+2$/m, 'a seccomp filter is loaded');
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      // chown, dac_override, fowner, fsetid, kill, setgid, setuid, net_bind_service: nothing that administers the kernel.
      assert.match(status, /^CapBnd:\s+00000000000004fb$/m);
      assert.match(status, /^CapAmb:\s+0+$/m);

      const numbers = SYSCALLS[process.arch];
      assert.ok(numbers, `system call numbers for ${process.arch}`);
      // Null arguments: without the filter most of these fail with EFAULT or EINVAL (or succeed: unshare); with it, EPERM.
      const script = [
        'import ctypes, json',
        'libc = ctypes.CDLL(None, use_errno=True)',
        `calls = ${JSON.stringify(numbers)}`,
        'out = {}',
        'for name, nr in calls.items():',
        "    args = [0x10000000] if name == 'unshare' else [0, 0, 0, 0, 0]",
        '    ctypes.set_errno(0)',
        '    rc = libc.syscall(nr, *args)',
        '    out[name] = "ok" if rc >= 0 else __import__("errno").errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))',
        'import socket',
        'try:',
        '    socket.socket(40, socket.SOCK_STREAM)',
        '    out["vsock"] = "ok"',
        'except OSError as error:',
        '    out["vsock"] = __import__("errno").errorcode.get(error.errno)',
        'print(json.dumps(out))',
      ].join('\n');
      const outcome = JSON.parse(await run(sandbox, `python3 - <<'EOF'\n${script}\nEOF`, session)) as Record<string, string>;
      assert.equal(outcome.getpid, 'ok', 'the probe itself runs');
      const expected = Object.fromEntries(Object.keys(numbers!).filter((name) => name !== 'getpid').map((name) => [name, name === 'clone3' ? 'ENOSYS' : 'EPERM']));
      const { getpid: _control, ...refused } = outcome;
      assert.deepEqual(refused, { ...expected, vsock: 'EPERM' });
      const nested = await sandbox.exec('unshare --user --map-root-user true', { session });
      assert.notEqual(nested.exitCode, 0, 'a nested user namespace (every capability again) was created');
    });
  });

  describe('the files API against a sandbox that races it', () => {
    const sandbox = env.sandbox();
    let session: string;
    let hostDir: string;
    const hostSecret = `host-only ${randomBytes(8).toString('hex')}`;
    before(async () => {
      session = await sandbox.createSession();
      hostDir = mkdtempSync(join(tmpdir(), 'boundary-host-'));
      writeFileSync(join(hostDir, 'flag'), hostSecret, { mode: 0o600 });
      writeFileSync(join(hostDir, 'environ'), hostSecret, { mode: 0o600 });
      await run(sandbox, [
        'mkdir -p /workspace/race/d /workspace/race/p',
        'echo inside > /workspace/race/d/flag && echo inside > /workspace/race/p/environ',
        // The other side of each swap: a link the relay, as host root, must never follow.
        `ln -s '${hostDir}' /workspace/race/x && ln -s /proc/self /workspace/race/q`,
        "cat > /workspace/race/swap.py <<'EOF'",
        'import ctypes, sys, time',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'pairs = [(a.encode(), b.encode()) for a, b in zip(sys.argv[2::2], sys.argv[3::2])]',
        'end, swaps = time.time() + float(sys.argv[1]), 0',
        'while time.time() < end:',
        '    for a, b in pairs:',
        '        swaps += libc.renameat2(-100, a, -100, b, 2) == 0',  // RENAME_EXCHANGE
        'print(swaps)',
        'EOF',
      ].join('\n'), session);
    });
    after(() => rmSync(hostDir, { recursive: true, force: true }));

    it('reads and writes while a directory and a symlink swap places never reach a host file or the relay', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const swapping = sandbox.exec('cd /workspace/race && python3 swap.py 6 d x p q', { timeout: 30_000 });
      const outcomes = { inside: 0, refused: 0, host: 0, relayEnv: 0, wrote: 0 };
      const deadline = Date.now() + 5_000;
      let index = 0;
      const reader = async (path: string) => {
        while (Date.now() < deadline) {
          try {
            const text = await sandbox.readFile(path);
            if (text.includes(hostSecret)) outcomes.host++;
            else if (text.includes('PATH=') || text.includes('RELAY')) outcomes.relayEnv++;
            else if (text === 'inside\n') outcomes.inside++;
          } catch (error) {
            assert.ok(error instanceof SandboxError, String(error));
            outcomes.refused++;
          }
        }
      };
      const writer = async () => {
        while (Date.now() < deadline) {
          await sandbox.writeFile(`/workspace/race/d/planted-${index++}`, 'planted').then(() => outcomes.wrote++, () => outcomes.refused++);
        }
      };
      await Promise.all([reader('/workspace/race/d/flag'), reader('/workspace/race/p/environ'), reader('/workspace/race/d/flag'), writer()]);
      const swaps = Number((await swapping).stdout.trim());
      assert.ok(swaps > 1000, `the sandbox swapped ${swaps} times`);
      assert.equal(outcomes.host, 0, `host files returned: ${JSON.stringify(outcomes)}`);
      assert.equal(outcomes.relayEnv, 0, `the relay's own environment returned: ${JSON.stringify(outcomes)}`);
      assert.deepEqual(readdirSync(hostDir).sort(), ['environ', 'flag'], 'a write landed in the host directory');
      // The race was live and the API kept working for what is inside.
      assert.ok(outcomes.inside > 20 && outcomes.wrote > 5, `too few calls got through: ${JSON.stringify(outcomes)}`);
    });

    it('symlinks inside /workspace still work as the sandbox sees them, and links out are refused', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      await run(sandbox, 'mkdir -p /workspace/links/real && echo linked > /workspace/links/real/file && ln -sfn /workspace/links/real /workspace/links/abs && ln -sfn real /workspace/links/rel && ln -sfn /etc/passwd /workspace/links/out && ln -sfn ../../.. /workspace/links/up', session);
      assert.equal(await sandbox.readFile('/workspace/links/abs/file'), 'linked\n');
      assert.equal(await sandbox.readFile('/workspace/links/rel/file'), 'linked\n');
      await sandbox.writeFile('/workspace/links/abs/new', 'through a link');
      assert.equal(await run(sandbox, 'cat /workspace/links/real/new', session), 'through a link');
      for (const path of ['/workspace/links/out', '/workspace/links/up/etc/passwd']) {
        await assert.rejects(sandbox.readFile(path), (error: unknown) => error instanceof SandboxError && error.code === 'PATH_OUTSIDE_WORKSPACE', path);
      }
    });
  });

  it('FIFOs and sockets are refused with NOT_A_FILE at once, and other sandboxes stay responsive', { timeout: ATTACK_TIMEOUT_MS }, async () => {
    const sandbox = env.sandbox();
    await run(sandbox, "mkfifo /workspace/fifo && python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('/workspace/sock')\" && test -p /workspace/fifo && test -S /workspace/sock");
    const calls = [
      ...Array.from({ length: 8 }, () => sandbox.writeFile('/workspace/fifo', 'blocked?')),
      ...Array.from({ length: 8 }, () => sandbox.readFile('/workspace/fifo')),
      sandbox.readFile('/workspace/sock'),
      sandbox.writeFile('/workspace/sock', 'x'),
    ];
    const settled = await Promise.race([
      Promise.allSettled(calls),
      new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 10_000).unref()),
    ]);
    assert.notEqual(settled, 'stuck', 'file calls on a FIFO did not answer');
    const codes = (settled as PromiseSettledResult<unknown>[]).map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as SandboxError).code : 'fulfilled'));
    assert.deepEqual([...new Set(codes)], ['NOT_A_FILE']);
    // Nothing of the relay is held: another sandbox's calls and a new session work at once.
    const other = env.sandbox();
    await other.writeFile('/workspace/ok.txt', 'fine');
    assert.equal(await other.readFile('/workspace/ok.txt'), 'fine');
    assert.equal((await other.exec('echo up', { session: await other.createSession() })).stdout, 'up\n');
  });

  it('a directory of more than listEntries entries is refused, not read whole; it can still be deleted', { timeout: ATTACK_TIMEOUT_MS }, async () => {
    const relay = await startRelay({ limits: { listEntries: 1000 } });
    try {
      const sandbox = relay.sandbox();
      await run(sandbox, 'mkdir -p /workspace/many/sub && cd /workspace/many && seq 1 1500 | xargs touch && cd sub && seq 1 3000 | xargs touch');
      await assert.rejects(sandbox.listFiles('/workspace/many'), (error: unknown) => error instanceof SandboxError && error.code === 'LIMIT_EXCEEDED' && error.details?.limit === 'listEntries');
      assert.equal((await sandbox.listFiles('/workspace')).length, 1);
      await assert.rejects(sandbox.readFile(`/workspace/${'x'.repeat(5000)}`), (error: unknown) => error instanceof SandboxError && error.code === 'BAD_REQUEST');
      await sandbox.deleteFile('/workspace/many', { recursive: true });
      assert.equal(await sandbox.exists('/workspace/many'), false);
    } finally {
      await relay.close();
    }
  });

  describe('the network', () => {
    let hostService: { server: Server; port: number };
    before(async () => {
      hostService = await greetingServer('0.0.0.0', 'HOST-SERVICE');
    });
    after(() => hostService.server.close());

    for (const network of [true, false]) {
      it(`with the network ${network ? 'on' : 'off'}, sandbox code reaches neither the relay nor any host service`, { timeout: ATTACK_TIMEOUT_MS }, async () => {
        // Listening on every interface, as a relay behind a load balancer does.
        const relay = await startRelay({ network, host: '0.0.0.0' });
        try {
          const relayPort = new URL(relay.relay.url).port;
          const hosts = ['127.0.0.1', ...hostIPv4Addresses().filter((address) => address !== '127.0.0.1')];
          const targets = [...hosts.flatMap((host) => [`${host}:${relayPort}`, `${host}:${hostService.port}`]), '169.254.169.254:80', '10.0.0.1:80', '172.16.0.1:80', '192.168.0.1:80'];
          const sandbox = relay.sandbox();
          const result = await sandbox.exec(connectProbes(targets), { timeout: 90_000 });
          assert.equal(result.stdout, '', `reached from inside the sandbox:\n${result.stdout}`);
          // The probes work: the same lines run on the host reach both services.
          const fromHost = spawnSync('bash', ['-c', connectProbes([`127.0.0.1:${relayPort}`, `127.0.0.1:${hostService.port}`])], { encoding: 'utf8', timeout: 30_000 });
          assert.equal(fromHost.stdout, `REACHED 127.0.0.1:${relayPort}\nREACHED 127.0.0.1:${hostService.port}\n`);
        } finally {
          await relay.close();
        }
      });
    }

    it('with the network on, connections leave through pasta; private or host addresses only when allowed', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      // An extra host address stands in for a service on the LAN (this machine has no other host to reach).
      const lanAddress = '198.51.100.7';
      execFileSync('ip', ['addr', 'add', `${lanAddress}/32`, 'dev', 'lo']);
      const lan = await greetingServer(lanAddress, 'LAN-SERVICE');
      const allowed = await startRelay({ networkAllow: [`${lanAddress}/32`] });
      const blocked = await startRelay({});
      try {
        const probe = connectProbes([`${lanAddress}:${lan.port}`]);
        const greeting = `timeout 3 bash -c 'exec 3<>/dev/tcp/${lanAddress}/${lan.port} && head -c 64 <&3'`;
        const through = await allowed.sandbox().exec(`${greeting}\nip -4 -o addr show | grep -v ' lo ' | wc -l`, { timeout: 60_000 });
        assert.match(through.stdout, /^LAN-SERVICE\n/, 'an allowed range is reached through pasta');
        assert.notEqual(through.stdout.trim().split('\n').at(-1), '0', 'the sandbox has an interface of its own besides lo');
        const refused = await blocked.sandbox().exec(`${probe}\ntimeout 3 bash -c 'exec 3<>/dev/tcp/${lanAddress}/${lan.port}' 2>&1; true`, { timeout: 60_000 });
        assert.doesNotMatch(refused.stdout, /REACHED/);
        assert.match(refused.stdout, /Permission denied|Network is unreachable|Connection refused/, 'the connection was refused at once, not dropped');
      } finally {
        await Promise.all([allowed.close(), blocked.close()]);
        lan.server.close();
        execFileSync('ip', ['addr', 'del', `${lanAddress}/32`, 'dev', 'lo']);
      }
    });
  });

  describe('set-uid files and the host', () => {
    const sandbox = env.sandbox();
    let session: string;
    before(async () => {
      session = await sandbox.createSession();
    });

    it('a set-uid file made in a sandbox gives another host user nothing: data dir and workspaces cannot be passed', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      await run(sandbox, 'cp /usr/bin/id /workspace/suid-id && chmod 4755 /workspace/suid-id', session);
      const hostFile = join(dataDir, 'sandboxes', sandbox.id, 'workspace', 'suid-id');
      assert.ok(existsSync(hostFile), 'the file is where the relay keeps the workspace');
      const asNobody = spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', `'${hostFile}' -u`], { encoding: 'utf8', timeout: 10_000 });
      assert.notEqual(asNobody.stdout.trim(), '0', 'host user nobody ran it as root');
      assert.notEqual(asNobody.status, 0, `nobody ran the file: ${asNobody.stdout}`);
      for (const dir of [dataDir, join(dataDir, 'sandboxes'), join(dataDir, 'sandboxes', sandbox.id)]) {
        assert.equal(statSync(dir).mode & 0o007, 0, `${dir} is open to other users`);
      }
      assert.equal(statSync(join(dataDir, 'sandboxes', sandbox.id, 'workspace')).mode & 0o777, 0o700);
    });

    it('files written through the API belong to the sandbox root like the shell\'s own, and lose set-uid and set-gid bits', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      await run(sandbox, 'echo old > /workspace/mode && chmod 6755 /workspace/mode && touch /workspace/by-shell', session);
      await sandbox.writeFile('/workspace/mode', 'new\n');
      await sandbox.writeFile('/workspace/by-api', 'new\n');
      assert.equal(await run(sandbox, 'stat -c "%a %u:%g %n" /workspace/mode /workspace/by-api /workspace/by-shell', session), '755 0:0 /workspace/mode\n644 0:0 /workspace/by-api\n644 0:0 /workspace/by-shell\n');
      const host = join(dataDir, 'sandboxes', sandbox.id, 'workspace');
      const owners = ['mode', 'by-api', 'by-shell'].map((name) => statSync(join(host, name)).uid);
      assert.equal(new Set(owners).size, 1, `host owners differ: ${owners}`);
      assert.notEqual(owners[0], 0, 'files belong to host root');
    });
  });

  describe('what the relay lets slip', () => {
    it('error messages name sandbox paths, never the host path of the data dir', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const sandbox = env.sandbox();
      await sandbox.writeFile('/workspace/plain', 'x');
      const attempts = [
        sandbox.readFile(`/workspace/${'n'.repeat(300)}`),
        sandbox.writeFile(`/workspace/${'n'.repeat(300)}/x`, 'x'),
        sandbox.readFile('/workspace/plain/below'),
        sandbox.mkdir('/workspace/plain/below'),
        sandbox.listFiles('/workspace/plain'),
        sandbox.deleteFile('/workspace/absent'),
      ];
      for (const outcome of await Promise.allSettled(attempts)) {
        assert.equal(outcome.status, 'rejected');
        const message = String((outcome.reason as Error).message);
        assert.ok(!message.includes(dataDir) && !message.includes('/sandboxes/'), `a host path in: ${message}`);
        assert.match(message, /\/workspace/, `the sandbox path in: ${message}`);
      }
    });

    it('a sandbox that cannot start is reported without the host paths the backend named', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const broken = await startRelay({
        backend: { name: 'broken', isolated: true, start: async (spec) => Promise.reject(new Error(`cannot bind ${spec.workspaceDir}`)) },
      });
      try {
        const failure = await broken.sandbox().createSession().catch((error: unknown) => error as SandboxError);
        assert.ok(failure instanceof SandboxError);
        assert.equal(failure.code, 'SANDBOX_START_FAILED');
        assert.doesNotMatch(failure.message, /\/sandboxes\/|cannot bind/);
      } finally {
        await broken.close();
      }
    });

    it('a token for some sessions lists only those sessions', { timeout: ATTACK_TIMEOUT_MS }, async () => {
      const secret = randomBytes(32).toString('hex');
      const secured = await startRelay({ secret });
      try {
        const id = `listing-${process.pid}`;
        const admin = getSandbox(secured.relay.url, id, { token: await issueToken({ secret, sandbox: id, scope: 'admin', expiresIn: 60 }) });
        const mine = await admin.createSession();
        await admin.createSession();
        await admin.createSession();
        const limited = getSandbox(secured.relay.url, id, { token: await issueToken({ secret, sandbox: id, sessions: [mine], scope: 'read', expiresIn: 60 }) });
        assert.deepEqual((await limited.listSessions()).map((session) => session.id), [mine]);
        assert.equal((await admin.listSessions()).length, 3);
      } finally {
        await secured.close();
      }
    });

    describe('the secret in the relay process', () => {
      const secret = `boundary-secret-${randomBytes(24).toString('hex')}`;
      let secretDir: string;
      before(() => {
        secretDir = mkdtempSync(join(tmpdir(), 'boundary-secret-'));
        writeFileSync(join(secretDir, 'secret'), `${secret}\n`, { mode: 0o600 });
      });
      after(() => rmSync(secretDir, { recursive: true, force: true }));

      for (const [how, args, extraEnv] of [
        ['--secret-file', ['--secret-file', '<dir>/secret'], {}],
        ['RELAY_SECRET_FILE', [], { RELAY_SECRET_FILE: '<dir>/secret' }],
        ['RELAY_SECRET', [], { RELAY_SECRET: secret }],
        ['--secret', ['--secret', secret], {}],
      ] as const) {
        it(`read from ${how}, it signs tokens and is in neither /proc/<pid>/environ nor /proc/<pid>/cmdline`, { timeout: ATTACK_TIMEOUT_MS }, async () => {
          const relay = await spawnRelayProcess(args.map((arg) => arg.replace('<dir>', secretDir)), Object.fromEntries(Object.entries(extraEnv).map(([key, value]) => [key, value.replace('<dir>', secretDir)])));
          try {
            const id = 'secret-box';
            const token = await issueToken({ secret, sandbox: id, scope: 'read', expiresIn: 60 });
            assert.deepEqual(await getSandbox(relay.url, id, { token }).listSessions(), [], 'the relay checks tokens with the secret it read');
            await assert.rejects(getSandbox(relay.url, id).listSessions(), (error: unknown) => error instanceof SandboxError && error.code === 'UNAUTHORIZED');
            for (const file of ['environ', 'cmdline']) {
              assert.ok(!readFileSync(`/proc/${relay.pid}/${file}`).includes(secret), `the secret is in /proc/<pid>/${file}`);
            }
          } finally {
            await relay.stop();
          }
        });
      }
    });
  });

  it('a workspace made when sandboxes ran as host root moves into the id range once and keeps working after sleep and restart', { timeout: ATTACK_TIMEOUT_MS }, async () => {
    const legacyData = mkdtempSync(join(tmpdir(), 'boundary-legacy-'));
    const workspace = join(legacyData, 'sandboxes', 'legacy', 'workspace');
    mkdirSync(join(workspace, 'sub'), { recursive: true });
    writeFileSync(join(workspace, 'old.txt'), 'from before\n');
    writeFileSync(join(workspace, 'sub', 'deep.txt'), 'deep\n');
    chmodSync(workspace, 0o755);
    try {
      let relay = await startRelay({ dataDir: legacyData });
      const check = async (label: string) => {
        const sandbox = getSandbox(relay.relay.url, 'legacy');
        const out = await sandbox.exec('stat -c "%u:%g %n" /workspace /workspace/old.txt /workspace/sub/deep.txt && echo more >> /workspace/old.txt && touch /workspace/sub/new', { timeout: 60_000 });
        assert.equal(out.exitCode, 0, `${label}: ${out.stderr}`);
        assert.equal(out.stdout, '0:0 /workspace\n0:0 /workspace/old.txt\n0:0 /workspace/sub/deep.txt\n', label);
      };
      await check('first start');
      assert.notEqual(statSync(join(workspace, 'old.txt')).uid, 0, 'the file still belongs to host root');
      await relay.relay.sleepSandbox('legacy');
      await check('after sleep');
      await relay.close();
      relay = await startRelay({ dataDir: legacyData });
      await check('after a relay restart');
      await relay.close();
      assert.equal(readFileSync(join(workspace, 'old.txt'), 'utf8'), 'from before\nmore\nmore\nmore\n');
    } finally {
      rmSync(legacyData, { recursive: true, force: true });
    }
  });
});
