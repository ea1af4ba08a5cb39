#!/usr/bin/env node
// `#cli` is the package's own import map entry (package.json "imports"): the compiled dist/cli.js for everyone
// running the published package with plain node; inside the monorepo, node run with
// `--conditions=@sandbox-terminal/source --import tsx` (`npm run relay`) gets src/cli.ts instead, so development
// needs no build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = import.meta.resolve('#cli');
if (cli.startsWith('file:') && !existsSync(fileURLToPath(cli))) {
  // Only in a repository checkout that was never built: say what to do instead of a module-resolution stack trace.
  process.stderr.write(`sandbox-relay: ${fileURLToPath(cli)} does not exist. Build the packages first (npm run build), or run the sources with npm run relay.\n`);
  process.exit(1);
}
await import(cli);
