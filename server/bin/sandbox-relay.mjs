#!/usr/bin/env node
// `#cli` is the package's own import map entry (package.json "imports"): the compiled dist/cli.js for everyone
// running the published package with plain node; inside the monorepo, node run with
// `--conditions=@sandbox-terminal/source --import tsx` gets src/cli.ts instead, so development needs no build.
await import('#cli');
