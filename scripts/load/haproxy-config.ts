/** How HAProxy picks a relay: by the sandbox segment of the path (each sandbox's calls go to one relay), or in turn. */
export type Balance = 'hash' | 'roundrobin';

/**
 * An HAProxy configuration in front of a group of relays, the one docs/deployment.md describes: `balance uri depth 3`
 * hashes `/v1/sandboxes/<id>` (three directory levels), consistently, so that each sandbox's calls reach the relay
 * that most likely owns it and the rest are forwarded by the relays themselves; health checks on `/healthz` take a
 * relay out while it drains (it answers 503). WebSocket upgrades pass in HTTP mode; `timeout tunnel` keeps terminals.
 */
export function haproxyConfig(options: { bind: string; relays: Array<{ name: string; address: string }>; balance: Balance }): string {
  const balance = options.balance === 'hash' ? ['balance uri path-only depth 3', 'hash-type consistent'] : ['balance roundrobin'];
  return [
    'global',
    '  maxconn 4000',
    '',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout tunnel 1h',
    // A relay busy starting many sandboxes answers /healthz late: a slow check alone must not take it out.
    '  timeout check 5s',
    '',
    'frontend relays',
    `  bind ${options.bind}`,
    '  default_backend relays',
    '',
    'backend relays',
    ...balance.map((line) => `  ${line}`),
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    '  default-server inter 2s fall 3 rise 2',
    ...options.relays.map((relay) => `  server ${relay.name} ${relay.address} check`),
    '',
  ].join('\n');
}
