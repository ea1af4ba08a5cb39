import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { startRelay } from './helpers.ts';

const env = await startRelay();
after(() => env.close());

const isCode = (code: string) => (error: unknown) => {
  assert.ok(error instanceof SandboxError, `expected a SandboxError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return true;
};

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('files', () => {
  const sandbox = env.sandbox();
  let session: string;
  before(async () => {
    session = await sandbox.createSession();
  });

  it('UTF-8 text (emoji, CJK) round-trips through writeFile and readFile, and reaches the shell as the same bytes', async () => {
    const text = 'héllo 😀 世界 🚀\n漢字とかな، مرحبا\n';
    await sandbox.writeFile('/workspace/text/utf8.txt', text);
    assert.equal(await sandbox.readFile('/workspace/text/utf8.txt'), text);
    const inShell = await sandbox.exec('cat /workspace/text/utf8.txt; wc -c < /workspace/text/utf8.txt', { session });
    assert.equal(inShell.stdout, `${text}${Buffer.byteLength(text)}\n`);
  });

  it('a binary file (every byte value, then 1 MiB of random bytes) round-trips byte-exact', async () => {
    const allBytes = Uint8Array.from({ length: 256 }, (_, index) => index);
    const content = new Uint8Array(Buffer.concat([allBytes, randomBytes(1024 * 1024)]));
    await sandbox.writeFile('/workspace/bin/blob.bin', content);

    const back = await sandbox.readFile('/workspace/bin/blob.bin', { encoding: 'binary' });
    assert.ok(back instanceof Uint8Array);
    assert.equal(back.byteLength, content.byteLength);
    assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(content)), 0, 'the bytes read back are the bytes written');

    // And the file on disk is exactly those bytes, as a program in the sandbox sees it.
    const onDisk = await sandbox.exec('sha256sum /workspace/bin/blob.bin; stat -c %s /workspace/bin/blob.bin', { session });
    assert.equal(onDisk.stdout, `${sha256(content)}  /workspace/bin/blob.bin\n${content.byteLength}\n`);
  });

  it('a binary file made in the sandbox reads back byte-exact', async () => {
    await sandbox.exec("printf '\\x00\\xff\\x80\\x0a\\x0d\\xc3' > /workspace/bin/made.bin", { session });
    const bytes = await sandbox.readFile('/workspace/bin/made.bin', { encoding: 'binary' });
    assert.deepEqual([...bytes], [0x00, 0xff, 0x80, 0x0a, 0x0d, 0xc3]);
  });

  it('mkdir with recursive creates every missing parent', async () => {
    await sandbox.mkdir('/workspace/deep/a/b/c', { recursive: true });
    assert.equal(await sandbox.exists('/workspace/deep/a/b/c'), true);
    const test = await sandbox.exec('test -d /workspace/deep/a/b/c && echo dir', { session });
    assert.equal(test.stdout, 'dir\n');
    // Again on an existing directory: no error.
    await sandbox.mkdir('/workspace/deep/a/b/c', { recursive: true });
  });

  it('mkdir without recursive needs the parent: a missing parent is FILE_NOT_FOUND and nothing is created', async () => {
    await assert.rejects(sandbox.mkdir('/workspace/missing-parent/child'), isCode('FILE_NOT_FOUND'));
    assert.equal(await sandbox.exists('/workspace/missing-parent'), false);
    await sandbox.mkdir('/workspace/flat');
    assert.equal(await sandbox.exists('/workspace/flat'), true);
  });

  it('listFiles gives each entry with its name, path, type and size', async () => {
    await sandbox.mkdir('/workspace/listing/sub', { recursive: true });
    await sandbox.writeFile('/workspace/listing/a.txt', 'abc');
    await sandbox.writeFile('/workspace/listing/b.bin', new Uint8Array(1000));
    await sandbox.exec('ln -s a.txt /workspace/listing/link', { session });

    const entries = await sandbox.listFiles('/workspace/listing');
    assert.deepEqual(
      entries.map(({ name, path, type }) => ({ name, path, type })),
      [
        { name: 'a.txt', path: '/workspace/listing/a.txt', type: 'file' },
        { name: 'b.bin', path: '/workspace/listing/b.bin', type: 'file' },
        { name: 'link', path: '/workspace/listing/link', type: 'symlink' },
        { name: 'sub', path: '/workspace/listing/sub', type: 'directory' },
      ],
    );
    const size = (name: string) => entries.find((entry) => entry.name === name)!.size;
    assert.equal(size('a.txt'), 3);
    assert.equal(size('b.bin'), 1000);
    assert.ok(entries.every((entry) => !Number.isNaN(Date.parse(entry.modifiedAt))));
    assert.deepEqual(await sandbox.listFiles('/workspace/listing/sub'), []);
  });

  it('listFiles of a missing directory is FILE_NOT_FOUND, of a file NOT_A_FILE', async () => {
    await assert.rejects(sandbox.listFiles('/workspace/no-such-dir'), isCode('FILE_NOT_FOUND'));
    await sandbox.writeFile('/workspace/plain.txt', 'x');
    await assert.rejects(sandbox.listFiles('/workspace/plain.txt'), isCode('NOT_A_FILE'));
  });

  it('exists is true for files and directories and false for missing paths', async () => {
    await sandbox.writeFile('/workspace/exists/here.txt', 'here');
    assert.equal(await sandbox.exists('/workspace/exists/here.txt'), true);
    assert.equal(await sandbox.exists('/workspace/exists'), true);
    assert.equal(await sandbox.exists('/workspace'), true);
    assert.equal(await sandbox.exists('/workspace/exists/not-here.txt'), false);
    assert.equal(await sandbox.exists('/workspace/nowhere/not-here.txt'), false);
  });

  it('deleteFile removes the file for everyone; a missing file is FILE_NOT_FOUND, a directory NOT_A_FILE', async () => {
    await sandbox.writeFile('/workspace/delete/me.txt', 'bye');
    await sandbox.deleteFile('/workspace/delete/me.txt');
    assert.equal(await sandbox.exists('/workspace/delete/me.txt'), false);
    const inShell = await sandbox.exec('test -e /workspace/delete/me.txt && echo still-there || echo gone', { session });
    assert.equal(inShell.stdout, 'gone\n');
    await assert.rejects(sandbox.readFile('/workspace/delete/me.txt'), isCode('FILE_NOT_FOUND'));
    await assert.rejects(sandbox.deleteFile('/workspace/delete/me.txt'), isCode('FILE_NOT_FOUND'));
    await assert.rejects(sandbox.deleteFile('/workspace/delete'), isCode('NOT_A_FILE'));
    assert.equal(await sandbox.exists('/workspace/delete'), true);
  });

  it('writeFile replaces an existing file entirely', async () => {
    await sandbox.writeFile('/workspace/replace.txt', 'a much longer first version');
    await sandbox.writeFile('/workspace/replace.txt', 'short');
    assert.equal(await sandbox.readFile('/workspace/replace.txt'), 'short');
  });

  it('a file written with writeFile is visible at once to every session', async () => {
    const first = await sandbox.createSession();
    const second = await sandbox.createSession();
    await sandbox.writeFile('/workspace/shared-view/note.txt', 'seen by all\n');
    const [one, two, oneShot] = await Promise.all([
      sandbox.exec('cat /workspace/shared-view/note.txt', { session: first }),
      sandbox.exec('cat /workspace/shared-view/note.txt', { session: second }),
      sandbox.exec('cat /workspace/shared-view/note.txt'),
    ]);
    assert.deepEqual([one.stdout, two.stdout, oneShot.stdout], ['seen by all\n', 'seen by all\n', 'seen by all\n']);
  });

  it('a file a session creates is readable with readFile and listed at once', async () => {
    await sandbox.exec('mkdir -p /workspace/from-shell && cd /workspace/from-shell && echo "made in bash" > out.txt', { session });
    assert.equal(await sandbox.readFile('/workspace/from-shell/out.txt'), 'made in bash\n');
    assert.deepEqual((await sandbox.listFiles('/workspace/from-shell')).map((entry) => entry.name), ['out.txt']);
  });

  it('a symlink that points inside /workspace works for every file call', async () => {
    await sandbox.mkdir('/workspace/real', { recursive: true });
    await sandbox.exec('ln -sfn /workspace/real /workspace/alias-abs && ln -sfn real /workspace/alias-rel', { session });

    await sandbox.writeFile('/workspace/alias-abs/via-abs.txt', 'absolute');
    await sandbox.writeFile('/workspace/alias-rel/via-rel.txt', 'relative');
    assert.equal(await sandbox.readFile('/workspace/real/via-abs.txt'), 'absolute');
    assert.equal(await sandbox.readFile('/workspace/alias-rel/via-abs.txt'), 'absolute');
    assert.equal(await sandbox.exists('/workspace/alias-abs/via-rel.txt'), true);
    await sandbox.mkdir('/workspace/alias-rel/made-through-link');
    assert.deepEqual((await sandbox.listFiles('/workspace/alias-abs')).map((entry) => entry.name), ['made-through-link', 'via-abs.txt', 'via-rel.txt']);
    await sandbox.deleteFile('/workspace/alias-abs/via-rel.txt');
    assert.equal(await sandbox.exists('/workspace/real/via-rel.txt'), false);
  });

  describe('paths outside /workspace are refused with PATH_OUTSIDE_WORKSPACE by every file call', () => {
    const box = env.sandbox();
    let shell: string;
    before(async () => {
      shell = await box.createSession();
      const links = await box.exec(
        [
          'ln -s /etc /workspace/out',
          'ln -s ../../.. /workspace/up',
          'ln -s out /workspace/chain',
          'ln -s /nonexistent-host-dir/file /workspace/dangling',
          'mkdir -p /workspace/nested/dir && ln -s ../../../etc /workspace/nested/dir/esc',
        ].join(' && '),
        { session: shell },
      );
      assert.equal(links.exitCode, 0, links.stderr);
    });

    // Destructive calls aim at names that exist nowhere, so a regression could not clobber a host file.
    const probe = 'st-escape-probe';
    const outside = [
      `/workspace/../etc/${probe}`,
      `/etc/${probe}`,
      probe,
      `workspace/${probe}`,
      `/workspace/a\0${probe}`,
      `/workspace/out/${probe}`,
      '/workspace/out',
      `/workspace/up/etc/${probe}`,
      '/workspace/up',
      `/workspace/chain/${probe}`,
      '/workspace/dangling',
      `/workspace/nested/dir/esc/${probe}`,
    ];
    // Read-only calls also aim at files that exist outside.
    const outsideExisting = ['/workspace/../etc/passwd', '/etc/passwd', '/workspace/out/passwd', '/workspace/up/etc/passwd', '/workspace/chain/hostname', '/workspace/nested/dir/esc/passwd'];
    // deleteFile removes a link itself, not its target, so for it only paths through a link lead out.
    const links = ['/workspace/out', '/workspace/up', '/workspace/dangling'];
    const calls: Array<[string, string[], (sandbox: Sandbox, path: string) => Promise<unknown>]> = [
      ['writeFile', outside, (sandbox, path) => sandbox.writeFile(path, 'escaped')],
      ['readFile', [...outside, ...outsideExisting], (sandbox, path) => sandbox.readFile(path)],
      ['mkdir', outside, (sandbox, path) => sandbox.mkdir(path)],
      ['mkdir recursive', outside, (sandbox, path) => sandbox.mkdir(`${path}/x`, { recursive: true })],
      ['deleteFile', outside.filter((path) => !links.includes(path)), (sandbox, path) => sandbox.deleteFile(path)],
      ['exists', [...outside, ...outsideExisting], (sandbox, path) => sandbox.exists(path)],
      ['listFiles', [...outside, '/workspace/out/', '/workspace/up/etc', '/workspace/nested/dir/esc'], (sandbox, path) => sandbox.listFiles(path)],
    ];

    for (const [name, paths, call] of calls) {
      it(`${name} refuses ../, absolute, relative and NUL paths and symlinks leading out`, async () => {
        const accepted: string[] = [];
        for (const path of paths) {
          try {
            await call(box, path);
            accepted.push(JSON.stringify(path));
          } catch (error) {
            assert.ok(error instanceof SandboxError, `${JSON.stringify(path)}: ${String(error)}`);
            assert.equal(error.code, 'PATH_OUTSIDE_WORKSPACE', `${name}(${JSON.stringify(path)}): ${error.message}`);
          }
        }
        assert.deepEqual(accepted, [], `${name} accepted paths outside /workspace`);
      });
    }

    it('nothing outside /workspace was created, and the links are still in place', async () => {
      for (const hostPath of [`/etc/${probe}`, `/${probe}`, probe, `workspace/${probe}`, '/nonexistent-host-dir']) {
        assert.equal(existsSync(hostPath), false, `${hostPath} exists on the host`);
      }
      const inside = await box.exec(`test -e /etc/${probe} && echo created; readlink /workspace/out /workspace/up /workspace/dangling`, { session: shell });
      assert.equal(inside.stdout, '/etc\n../../..\n/nonexistent-host-dir/file\n');
    });

    it('deleteFile on a link that points out removes the link, not its target', async () => {
      await box.exec('ln -s /etc/hostname /workspace/to-hostname', { session: shell });
      await box.deleteFile('/workspace/to-hostname');
      const check = await box.exec('test -L /workspace/to-hostname && echo link-left; test -f /etc/hostname && echo target-kept', { session: shell });
      assert.equal(check.stdout, 'target-kept\n');
    });

    it('refused calls leave the sandbox and its sessions usable', async () => {
      await box.exec('cd /tmp && export AFTER_ERRORS=1', { session: shell });
      await assert.rejects(box.readFile('/workspace/../../etc/shadow'), isCode('PATH_OUTSIDE_WORKSPACE'));
      await assert.rejects(box.writeFile('/workspace/out/evil', 'x'), isCode('PATH_OUTSIDE_WORKSPACE'));
      const state = await box.exec('pwd; echo $AFTER_ERRORS', { session: shell });
      assert.equal(state.stdout, '/tmp\n1\n');
      await box.writeFile('/workspace/ok.txt', 'fine');
      assert.equal(await box.readFile('/workspace/ok.txt'), 'fine');
    });
  });
});
