// Serves the bench page: our element and a bare xterm bundled by esbuild (production build, as users ship it),
// on a loopback port of its own. The relay is on another port (any origin may call it without a secret).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { THROUGHPUT_WORKLOADS } from './workload-data.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function bundle(entry) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: process.env.BENCH_PAGE_MINIFY !== '0',
    write: false,
    // The workspace packages from their TypeScript sources (their exports' source condition): no build step needed.
    conditions: ['@sandbox-terminal/source'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

const HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>
<link rel="stylesheet" href="/xterm.css"><style>body{margin:0;background:#111}</style></head>
<body><script type="module" src="/bench.js"></script></body></html>`;

export async function startPageServer() {
  const [pageJs, xtermCss] = await Promise.all([
    bundle('bench/pages/entry.ts'),
    readFile(`${ROOT}node_modules/@xterm/xterm/css/xterm.css`, 'utf8'),
  ]);
  const files = {
    '/': ['text/html', HTML],
    '/bench.js': ['text/javascript', pageJs],
    '/xterm.css': ['text/css', xtermCss],
  };
  // The bare-xterm reference (a) writes the same bytes the terminals receive.
  for (const [name, workload] of Object.entries(THROUGHPUT_WORKLOADS)) files[`/data/${name}`] = ['application/octet-stream', workload.terminalBytes()];
  const server = createServer((request, response) => {
    const file = files[new URL(request.url, 'http://x').pathname];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The in-page helpers alone, for pages that are not ours (wetty's), as a classic init script. */
export async function benchHelpersScript() {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['bench/pages/bench-page.ts'],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}
