// What every example site passes to its integration: the relay (from SANDBOX_RELAY_URL at build time), the relay
// template new sandboxes start from, and a site-wide setup that runs once per sandbox before the first block.
export const relay = process.env.SANDBOX_RELAY_URL ?? 'http://127.0.0.1:8787';

export const siteOptions = {
  relay,
  template: 'tutorial',
  setup: { command: 'echo "set up once by the site" > /workspace/setup.txt' },
};
