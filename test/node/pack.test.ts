// The published packages, as a user gets them: `npm pack` of the five workspaces (their prepack script builds dist/),
// installed into a fresh project outside the repository, then used there with plain node and tsc: no tsx, no
// source condition, nothing of the monorepo's node_modules on the resolution path.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKSPACES = ['packages/protocol', 'packages/client', 'packages/elements', 'packages/docs', 'server'];
const SOURCE_CONDITION = '@sandbox-terminal/source';
/** Packing builds all five packages (tsc) and installing fetches their dependencies (cache first): on a busy machine,
 * minutes. */
const SETUP_TIMEOUT_MS = 5 * 60_000;
/** One check in the fresh project: a relay start and an exec, or a tsc run. */
const CHECK_TIMEOUT_MS = 90_000;
/**
 * Dependencies with native addons. Their install scripts compile (node-pty; sqlite3 when its prebuilt binary cannot
 * be downloaded), which takes minutes, so the fresh install skips scripts and takes the addon the repository's own
 * install built for the same version; a different version is rebuilt in the fresh project.
 */
const NATIVE_ADDONS: Record<string, string[]> = {
  'node-pty': ['build/Release/pty.node'],
  sqlite3: ['build/Release/node_sqlite3.node'],
};

interface PackedFile {
  path: string;
}
interface PackResult {
  name: string;
  filename: string;
  files: PackedFile[];
}
interface Manifest {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  types?: string;
  customElements?: string;
}

let scratch: string;
let project: string;
const packed = new Map<string, { result: PackResult; manifest: Manifest }>();

/**
 * What this run's environment says about the repository: NODE_OPTIONS (tsx, conditions) and, under `npm run`, the
 * variables npm sets for a script of the root package. None of it may reach the fresh project.
 */
const REPOSITORY_ENV = /^(NODE_OPTIONS|INIT_CWD|npm_config_local_prefix|npm_package_.*|npm_lifecycle_.*)$/;

/** Runs a command in the fresh project, with this run's environment minus what points back at the repository. */
async function inProject(file: string, args: string[], timeout = CHECK_TIMEOUT_MS): Promise<{ stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !REPOSITORY_ENV.test(name)));
  return run(file, args, { cwd: project, env, timeout, maxBuffer: 16 * 1024 * 1024 });
}

async function useRepositoryAddons(): Promise<void> {
  const repoRequire = createRequire(join(ROOT, 'package.json'));
  const projectRequire = createRequire(join(project, 'package.json'));
  for (const [name, files] of Object.entries(NATIVE_ADDONS)) {
    const projectDir = join(projectRequire.resolve(`${name}/package.json`), '..');
    const repoDir = join(repoRequire.resolve(`${name}/package.json`), '..');
    const version = async (dir: string) => (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    if ((await version(projectDir)) !== (await version(repoDir))) {
      await inProject('npm', ['rebuild', name], SETUP_TIMEOUT_MS);
      continue;
    }
    for (const file of files) {
      await mkdir(join(projectDir, file, '..'), { recursive: true });
      await copyFile(join(repoDir, file), join(projectDir, file));
    }
  }
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sandbox-terminal-pack-'));
  const tarballs = join(scratch, 'tarballs');
  project = join(scratch, 'project');
  await mkdir(tarballs);
  await mkdir(project);

  const workspaceArgs = WORKSPACES.flatMap((workspace) => ['-w', workspace]);
  const { stdout } = await run('npm', ['pack', ...workspaceArgs, '--pack-destination', tarballs, '--json'], { cwd: ROOT, timeout: SETUP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  // prepack's build output comes before the JSON on stdout in some npm versions.
  const results = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as PackResult[];
  for (const [index, workspace] of WORKSPACES.entries()) {
    const manifest = JSON.parse(await readFile(join(ROOT, workspace, 'package.json'), 'utf8')) as Manifest;
    const result = results.find((candidate) => candidate.name === manifest.name);
    assert.ok(result, `npm pack made no tarball for ${manifest.name} (${index})`);
    packed.set(manifest.name, { result, manifest });
  }

  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', private: true, type: 'module' }));
  const files = [...packed.values()].map(({ result }) => join(tarballs, result.filename));
  await inProject('npm', ['install', ...files, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], SETUP_TIMEOUT_MS);
  await useRepositoryAddons();
  // The relay's own native pieces (server/native) build from what the tarball ships, as a user's install does.
  await inProject('npm', ['rebuild', '@sandbox-terminal/server'], SETUP_TIMEOUT_MS);
}, { timeout: SETUP_TIMEOUT_MS * 2 });

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Every file an exports map, `types` or `bin` points at, except the monorepo-only source condition. */
function publishedTargets(manifest: Manifest): string[] {
  const targets = Object.values(manifest.exports).flatMap((target) =>
    typeof target === 'string' ? [target] : Object.entries(target).filter(([condition]) => condition !== SOURCE_CONDITION).map(([, path]) => path),
  );
  return [...targets, ...(manifest.types ? [manifest.types] : []), ...Object.values(manifest.bin ?? {})].map((path) => path.replace(/^\.\//, ''));
}

describe('the packed packages', () => {
  it('contain what their exports, types and bin point at, compiled into dist, with README and LICENSE', () => {
    for (const { result, manifest } of packed.values()) {
      const paths = new Set(result.files.map((file) => file.path));
      for (const required of ['package.json', 'README.md', 'LICENSE']) assert.ok(paths.has(required), `${manifest.name}: no ${required}`);
      for (const target of publishedTargets(manifest)) {
        assert.ok(paths.has(target), `${manifest.name}: ${target} is not in the tarball`);
        assert.ok(/^(dist\/.*\.(js|d\.ts)|bin\/.*\.mjs|[^/]+\.json)$/.test(target), `${manifest.name}: ${target} is not a built file`);
      }
    }
    // The manifest, where package.json's customElements field (read by IDEs and Storybook) says it is.
    const elements = packed.get('@sandbox-terminal/elements');
    assert.equal(elements?.manifest.customElements, 'custom-elements.json');
    assert.ok(elements?.result.files.some((file) => file.path === 'custom-elements.json'));
    assert.ok(packed.get('@sandbox-terminal/server')?.result.files.some((file) => file.path === 'dist/session/bashrc.sh'), 'the shell integration script is not beside its module');
    assert.ok(packed.get('@sandbox-terminal/docs')?.result.files.some((file) => file.path === 'dist/sandbox-terminal.js'), 'the single-file build is not in the docs tarball');
  });

  it('contain no tests and no build bookkeeping', () => {
    for (const { result, manifest } of packed.values()) {
      const stray = result.files.map((file) => file.path).filter((path) => /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$|tsbuildinfo|tsconfig/.test(path));
      assert.deepEqual(stray, [], `${manifest.name} packs ${stray.join(', ')}`);
    }
  });
});

describe('a fresh project with the five tarballs installed', () => {
  it('starts a relay with createRelay and runs a command through the client SDK, with plain node', { timeout: CHECK_TIMEOUT_MS }, async () => {
    const dataDir = join(scratch, 'relay-data');
    await writeFile(
      join(project, 'exec.mjs'),
      `import { createRelay } from '@sandbox-terminal/server';
import { getSandbox } from '@sandbox-terminal/client';
const relay = await createRelay({ port: 0, host: '127.0.0.1', dataDir: ${JSON.stringify(dataDir)}, logger: 'silent' });
try {
  const sandbox = getSandbox(relay.url, 'pack-check');
  const session = await sandbox.createSession();
  const result = await sandbox.exec('echo $((6*7))', { session });
  console.log(JSON.stringify({ stdout: result.stdout, exitCode: result.exitCode, backend: relay.backend.name }));
} finally {
  await relay.close();
}
`,
    );
    const { stdout } = await inProject(process.execPath, ['exec.mjs']);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { stdout: string; exitCode: number; backend: string };
    assert.equal(result.stdout, '42\n');
    assert.equal(result.exitCode, 0);
  });

  it('runs the sandbox-relay bin with plain node: --help lists the options', { timeout: CHECK_TIMEOUT_MS }, async () => {
    const { stdout } = await inProject(process.execPath, [join(project, 'node_modules', '.bin', 'sandbox-relay'), '--help']);
    for (const option of ['--port', '--host', '--data-dir', '--idle-timeout', '--secret', 'RELAY_SECRET']) assert.ok(stdout.includes(option), `--help does not mention ${option}`);
  });

  it('resolves every entry point to dist and imports the protocol', { timeout: CHECK_TIMEOUT_MS }, async () => {
    await writeFile(
      join(project, 'resolve.mjs'),
      `const specifiers = ['@sandbox-terminal/protocol', '@sandbox-terminal/client', '@sandbox-terminal/server',
  '@sandbox-terminal/elements', '@sandbox-terminal/elements/classes', '@sandbox-terminal/elements/define',
  '@sandbox-terminal/elements/custom-elements.json'];
const protocol = await import('@sandbox-terminal/protocol');
console.log(JSON.stringify({ resolved: specifiers.map((specifier) => import.meta.resolve(specifier)), subprotocol: protocol.TERMINAL_SUBPROTOCOL }));
`,
    );
    const { stdout } = await inProject(process.execPath, ['resolve.mjs']);
    const { resolved, subprotocol } = JSON.parse(stdout) as { resolved: string[]; subprotocol: string };
    assert.equal(subprotocol, 'sandbox-terminal.v1');
    for (const url of resolved) {
      assert.ok(url.startsWith(`file://${project}/node_modules/@sandbox-terminal/`), `${url} is not in the fresh project`);
      assert.match(url, /\/dist\/[\w-]+\.js$|\/custom-elements\.json$/);
    }
    const elementsDist = await readdir(join(project, 'node_modules', '@sandbox-terminal', 'elements', 'dist'));
    for (const declaration of ['index.d.ts', 'classes.d.ts', 'define.d.ts', 'events.d.ts']) assert.ok(elementsDist.includes(declaration), `no ${declaration}`);
  });

  for (const moduleResolution of ['nodenext', 'bundler']) {
    it(`type-checks a program against the declarations (moduleResolution ${moduleResolution})`, { timeout: CHECK_TIMEOUT_MS }, async () => {
      const dir = join(project, `types-${moduleResolution}`);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: moduleResolution === 'bundler' ? 'ESNext' : 'NodeNext',
            moduleResolution,
            lib: ['ES2023', 'DOM', 'DOM.Iterable'],
            strict: true,
            noEmit: true,
            // Our declarations are checked in full once; the second run only resolves them differently.
            skipLibCheck: moduleResolution === 'bundler',
            // Node's types from the repository: the fresh project has no @types/node, and the server's declarations use them.
            typeRoots: [join(ROOT, 'node_modules', '@types')],
            types: ['node'],
          },
          files: ['check.ts'],
        }),
      );
      await writeFile(
        join(dir, 'check.ts'),
        `import '@sandbox-terminal/elements';
import { SandboxTerminal, SessionTabs, RelayConnectionAddon, type StatusChangeDetail } from '@sandbox-terminal/elements/classes';
import { defineElements } from '@sandbox-terminal/elements/define';
import { getSandbox, SandboxError, type ExecResult } from '@sandbox-terminal/client';
import { createRelay, issueToken, type Relay, type RelayOptions, type RelayLimits, type RelayMetrics } from '@sandbox-terminal/server';
import { TERMINAL_SUBPROTOCOL, type ErrorCode } from '@sandbox-terminal/protocol';

// HTMLElementTagNameMap: the tags are typed as their classes.
const terminal: SandboxTerminal = document.createElement('sandbox-terminal');
const tabs: SessionTabs | null = document.querySelector('session-tabs');
// HTMLElementEventMap: detail is typed.
terminal.addEventListener('status-change', (event) => {
  const detail: StatusChangeDetail = event.detail;
  const state: string = detail.status.state;
  // @ts-expect-error: not a field of the detail (fails if the event map is missing and detail is any)
  void detail.nonsense;
  void state;
});
tabs?.addEventListener('tab-change', (event) => void (event.detail.index satisfies number));
defineElements(customElements);
void RelayConnectionAddon;

const result: ExecResult = await getSandbox('http://127.0.0.1:8787', 'types').exec('true');
const code: number = result.exitCode;
// @ts-expect-error: exec takes a command string (fails if the client's types are any)
await getSandbox('http://127.0.0.1:8787', 'types').exec(42);
const errorCode: ErrorCode | undefined = new SandboxError({ code: 'SESSION_NOT_FOUND', message: 'gone' }, 404).code;

const options: RelayOptions = { port: 0, host: '127.0.0.1', backend: 'unisolated' };
const limits: Partial<RelayLimits> = {};
const relay: Relay = await createRelay({ ...options, limits });
const metrics: RelayMetrics = relay.metrics;
const token: string = await issueToken({ secret: 'x'.repeat(32), sandbox: 'types', scope: 'read', expiresIn: '10m' });
const subprotocol: string = TERMINAL_SUBPROTOCOL;
void [code, errorCode, metrics, token, subprotocol];
`,
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const { stdout, stderr } = await inProject(process.execPath, [tsc, '-p', dir]).catch((error: { stdout: string; stderr: string }) => error);
      assert.equal(`${stdout}${stderr}`.trim(), '', 'tsc reported errors');
    });
  }
});
