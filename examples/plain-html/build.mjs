// The plain HTML example's build: the pages with the site's options written in, and the single-file build beside them.
// Any generator that emits HTML (MkDocs, Hugo, Jekyll…) does the same: one <script type="module"> and marked blocks.
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteOptions } from '../shared/site-options.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const OUT = join(HERE, 'dist');
const require = createRequire(import.meta.url);
const bundle = join(dirname(require.resolve('@sandbox-terminal/docs/package.json')), 'dist', 'sandbox-terminal.js');

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const config = JSON.stringify(siteOptions).replaceAll('<', '\\u003c');
for (const name of await readdir(join(HERE, 'src'))) {
  const source = join(HERE, 'src', name);
  if (name.endsWith('.html')) await writeFile(join(OUT, name), (await readFile(source, 'utf8')).replaceAll('__SANDBOX_DOCS_CONFIG__', config));
  else await copyFile(source, join(OUT, name));
}
await copyFile(bundle, join(OUT, 'sandbox-terminal.js'));
console.log(`plain HTML example built into ${OUT} (relay ${siteOptions.relay})`);
