// Flood bench (issue 4): `yes` in a <sandbox-terminal> in headless Chromium for FLOOD_SECONDS (default 60), sampling
// the relay's RSS, the page's JS heap and the page's longest main-thread stall; then Ctrl-C and the time until the
// prompt is back. Usage: node bench/flood.mjs   (prints a Markdown table; BENCHMARKS.md records it with the date).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer, defaultClientConditions } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 60);
const SAMPLE_EVERY_MS = 5_000;
const RELAY_PORT = 18_000 + Math.floor(Math.random() * 1000);

// The workspace packages from their TypeScript sources (their exports' source condition), as `npm run relay` does.
const relay = spawn(process.execPath, ['--conditions=@sandbox-terminal/source', '--import', 'tsx', 'server/bin/sandbox-relay.mjs', '--port', String(RELAY_PORT), '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  relay.stdout.on('data', (chunk) => chunk.toString().includes('listening') && resolve());
  relay.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
});
const relayUrl = `http://127.0.0.1:${RELAY_PORT}`;
const vite = await createServer({
  configFile: false,
  root: ROOT,
  logLevel: 'warn',
  resolve: { conditions: ['@sandbox-terminal/source', ...defaultClientConditions] },
  server: { port: 0, proxy: { '/v1': { target: relayUrl, ws: true } } },
});
await vite.listen();
const pageUrl = `${vite.resolvedUrls.local[0]}bench/pages/flood.html`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
});

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const heapMiB = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((metric) => metric.name === 'JSHeapUsedSize').value / 1024 / 1024;
  };
  await page.goto(pageUrl);
  await page.waitForFunction(() => /#\s*$/.test(window.lastLine()), null, { timeout: 30_000 });
  await page.click('sandbox-terminal');
  const before = { relay: rssMiB(relay.pid), heap: await heapMiB() };
  await page.keyboard.type('yes flood-line-from-the-bench\n');
  const samples = [];
  const started = Date.now();
  while (Date.now() - started < FLOOD_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    samples.push({ t: Math.round((Date.now() - started) / 1000), relay: rssMiB(relay.pid), heap: await heapMiB() });
  }
  const stats = await page.evaluate(() => ({ ...window.benchStats }));
  // Ctrl-C: time from the key to a prompt on the terminal's cursor line, measured inside the page.
  const ctrlC = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const term = document.getElementById('term');
        const start = performance.now();
        term.terminal.input('\x03');
        const check = () => (/[#$]\s*$/.test(window.lastLine()) && !/flood-line/.test(window.lastLine()) ? resolve(performance.now() - start) : setTimeout(check, 2));
        check();
      }),
  );
  const max = (key) => Math.max(...samples.map((sample) => sample[key]));
  console.log(`flood: yes in <sandbox-terminal> for ${FLOOD_SECONDS} s (900x500 px, headless Chromium), samples every ${SAMPLE_EVERY_MS / 1000} s`);
  console.log('| t (s) | relay RSS (MiB) | page JS heap (MiB) |');
  console.log('|---|---|---|');
  console.log(`| before | ${before.relay.toFixed(1)} | ${before.heap.toFixed(1)} |`);
  for (const sample of samples) console.log(`| ${sample.t} | ${sample.relay.toFixed(1)} | ${sample.heap.toFixed(1)} |`);
  console.log(`\nmax relay RSS ${max('relay').toFixed(1)} MiB, max page heap ${max('heap').toFixed(1)} MiB, longest page stall ${stats.maxTickGapMs.toFixed(0)} ms (50 ms ticker, ${stats.ticks} ticks), Ctrl-C to prompt ${ctrlC.toFixed(0)} ms`);
} finally {
  await browser.close();
  await vite.close();
  relay.kill('SIGTERM');
}
