// Loaded with `--import` before every Node test file (see package.json `test:node`): every test that names no
// `timeout` of its own gets DEFAULT_TEST_TIMEOUT_MS, so a hang fails within a minute with the test's name.
//
// Why not just `--test-timeout`: on Node 20 that flag bounds each test *file* as a whole (the runner cancels the
// file's process) and sets no per-test timeout, so a hung test is never named and a long file fails for being long.
// The runner's `--test-timeout` is kept as the per-file budget instead.
//
// `syncBuiltinESMExports` is Node's documented way to make a change to a builtin's CommonJS exports visible to ES
// module imports of it, so `import { it } from 'node:test'` in the test files gets the wrapped functions.
import { createRequire, syncBuiltinESMExports } from 'node:module';

export const DEFAULT_TEST_TIMEOUT_MS = 60_000;

const require = createRequire(import.meta.url);
const nodeTest = require('node:test');

/** `(name?, options?, fn?)` with `timeout` added to the options unless they already have one. */
function withDefaultTimeout(args) {
  const options = args.find((arg) => arg !== null && typeof arg === 'object');
  if (options) {
    if (options.timeout !== undefined) return args;
    return args.map((arg) => (arg === options ? { ...options, timeout: DEFAULT_TEST_TIMEOUT_MS } : arg));
  }
  const fnIndex = args.findIndex((arg) => typeof arg === 'function');
  const at = fnIndex >= 0 ? fnIndex : args.length;
  return [...args.slice(0, at), { timeout: DEFAULT_TEST_TIMEOUT_MS }, ...args.slice(at)];
}

function wrap(original) {
  const wrapped = (...args) => original(...withDefaultTimeout(args));
  for (const variant of ['skip', 'todo', 'only']) {
    if (typeof original[variant] === 'function') wrapped[variant] = (...args) => original[variant](...withDefaultTimeout(args));
  }
  return wrapped;
}

nodeTest.it = wrap(nodeTest.it);
nodeTest.test = wrap(nodeTest.test);
syncBuiltinESMExports();
