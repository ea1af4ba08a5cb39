// `npm run examples:relay`: a relay for trying the examples by hand: guest mode on, the examples' `tutorial` template,
// on 127.0.0.1:8787 (RELAY_PORT), in the foreground. Guest mode needs a secret: RELAY_SECRET if set, else a random one
// for this run (guest tokens do not outlive it). Then `npm run build` in an example's folder and serve its output.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import './load-sources.mjs';

const TEMPLATE_DIR = fileURLToPath(new URL('../examples/shared/template', import.meta.url));
const { createRelay } = await import('@sandbox-terminal/server');
const relay = await createRelay({
  host: process.env.RELAY_HOST ?? '127.0.0.1',
  port: Number(process.env.RELAY_PORT ?? 8787),
  secret: process.env.RELAY_SECRET ?? randomBytes(32).toString('base64url'),
  guest: true,
  templates: { tutorial: TEMPLATE_DIR },
  logger: 'warn',
});
console.log(`Guest relay for the examples on ${relay.url} (template tutorial = ${TEMPLATE_DIR}); Ctrl+C stops it.`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void relay.close().then(() => process.exit(0)));
