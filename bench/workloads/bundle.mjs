// Workload 7: what a page downloads. Each entry bundled by esbuild (minified, ES2022, production), gzipped with
// node:zlib at level 9; once with @xterm/xterm external (the page already has xterm) and once with it inside.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PEERS_DIR } from '../lib/peers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const ENTRIES = {
  /** The element, its addon, Lit, partysocket, the fit and web-links addons and xterm's CSS (in the element). */
  elements: "import '@sandbox-terminal/elements';",
  /** Cloudflare's xterm addon alone; it needs a Terminal from the page (and xterm's CSS, not counted). */
  cloudflare: "export { SandboxAddon } from '@cloudflare/sandbox/xterm'; export { Terminal } from '@xterm/xterm';",
};

const LARGEST_PARTS = 6;

/** Minified bytes by package (or by workspace folder), largest first. */
function largestParts(metafile) {
  const bytes = {};
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
      bytes[name] = (bytes[name] ?? 0) + input.bytesInOutput;
    }
  }
  return Object.entries(bytes).sort((a, b) => b[1] - a[1]).slice(0, LARGEST_PARTS);
}

async function size(contents, externalXterm) {
  const result = await build({
    absWorkingDir: ROOT,
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    conditions: ['@sandbox-terminal/source'],
    nodePaths: [`${PEERS_DIR}node_modules`],
    external: externalXterm ? ['@xterm/xterm'] : [],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
    metafile: true,
  });
  const code = result.outputFiles[0].contents;
  return { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength, largest: largestParts(result.metafile) };
}

export async function bundle() {
  const result = {};
  for (const [name, contents] of Object.entries(ENTRIES)) {
    result[name] = { withoutXterm: await size(contents, true), withXterm: await size(contents, false) };
  }
  return result;
}
