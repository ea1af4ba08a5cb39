// Importing this lets the process load the workspace packages straight from their TypeScript sources, without a
// build: their package.json exports send the `@sandbox-terminal/source` condition to src/*.ts (published consumers
// get dist/), a resolve hook adds that condition, and tsx compiles the .ts files.
// npm scripts say the same on node's command line (`--conditions=@sandbox-terminal/source --import tsx`); this is
// for processes started by a tool or another script: `npm start`, web-test-runner's config.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./source-condition-hooks.mjs', import.meta.url);
registerTsx();
