import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics } from 'prom-client';
import { createRelay, type Relay, type RelayOptions } from './relay.ts';
import { MIN_SECRET_BYTES } from './auth.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_LIMITS } from './limits.ts';
import { nativeFs } from './sandbox/native.ts';
import { DEFAULT_SANDBOX_IDS, parseSandboxIds } from './sandbox/sandbox-ids.ts';
import { parseNetworkAllow } from './sandbox/sandbox-network.ts';
import { GUEST_FLAGS, GUEST_HELP, parseGuestConfig } from './guest/guest-cli.ts';

const HELP = `sandbox-relay: live sandbox terminals for any web page (the session relay)

Usage: sandbox-relay [options]

Every option can also be set with the environment variable named beside it; a flag wins over the variable.

  --port <n>             RELAY_PORT          TCP port (default 8787; 0 picks a free one)
  --host <addr>          RELAY_HOST          interface to listen on (default 127.0.0.1, loopback only)
  --idle-timeout <s>     RELAY_IDLE_TIMEOUT  seconds without activity before a sandbox sleeps (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000}, minimum 1)
  --data-dir <dir>       RELAY_DATA_DIR      keeps workspaces and the session registry (SQLite) here, so sessions
                                             survive a relay restart (default: a temporary directory, in-memory registry)
  --redis-url <url>      RELAY_REDIS_URL     keeps the session registry in Redis (redis://[user:pass@]host:port[/db],
                                             rediss:// for TLS) so several relays share sessions; wins over the SQLite
                                             registry of --data-dir (workspaces stay there). Checked at start. Relays
                                             sharing it form a group: each sandbox runs on the relay holding its lease,
                                             any relay answers any call (docs/deployment.md)
  --advertise-url <url>  RELAY_ADVERTISE_URL with --redis-url: the URL other relays reach this one at (default: the
                                             address it listens on; required with --host 0.0.0.0). Internal only
  --sandbox-lease-ms <n> RELAY_SANDBOX_LEASE_MS  with --redis-url: how long a sandbox's lease outlives the last renewal
                                             of a relay that died, i.e. how soon another relay takes over (default ${DEFAULT_LIMITS.sandboxLeaseMs})
  --backend <name>       RELAY_BACKEND       auto | bubblewrap | unisolated (default auto: bubblewrap where it works)
  --network <on|off>     RELAY_NETWORK       on (default): sandboxes reach the internet through pasta, from their own
                                             network namespace; the host's loopback and addresses, private and
                                             link-local ranges stay out of reach. off: loopback only (SECURITY.md)
  --network-allow <l>    RELAY_NETWORK_ALLOW comma-separated IPv4 CIDR ranges sandboxes may reach although private
  --sandbox-ids <s[:n]>  RELAY_SANDBOX_IDS   host uid/gid range sandboxes run under: root inside is uid s outside
                                             (default ${DEFAULT_SANDBOX_IDS.uid}:${DEFAULT_SANDBOX_IDS.count}; no host account may use it)
  --allowed-origins <l>  RELAY_ALLOWED_ORIGINS  comma-separated origins allowed to use the API from a browser (default any)
  --dev-endpoints        RELAY_DEV_ENDPOINTS  enable /v1/admin/* (idle timeout, sleep now) for demos and tests
  --secret-file <path>   RELAY_SECRET_FILE   reads the secret that signs and checks access tokens (HS256, at least 32
                                             bytes) from a file; with it every call needs a token from issueToken().
                                             Without a secret: development mode, no auth (logged).
  --secret <s>           RELAY_SECRET        the secret itself (the relay removes it from its environment and command
                                             line once read, but a file is better: nothing else ever shows it)
  --log-level <level>    RELAY_LOG_LEVEL     fatal | error | warn | info | debug | trace | silent (default info)
${GUEST_HELP}  -h, --help                                 this text
`;

class ConfigError extends Error {}

function parseConfig(argv: string[], env: NodeJS.ProcessEnv): RelayOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'idle-timeout': { type: 'string' },
      'data-dir': { type: 'string' },
      'redis-url': { type: 'string' },
      'advertise-url': { type: 'string' },
      'sandbox-lease-ms': { type: 'string' },
      backend: { type: 'string' },
      network: { type: 'string' },
      'network-allow': { type: 'string' },
      'sandbox-ids': { type: 'string' },
      'secret-file': { type: 'string' },
      'allowed-origins': { type: 'string' },
      'dev-endpoints': { type: 'boolean' },
      'log-level': { type: 'string' },
      secret: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...GUEST_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const pick = (flag: keyof typeof values, variable: string) => (values[flag] as string | undefined) ?? env[variable];
  const options: RelayOptions = {};
  const port = pick('port', 'RELAY_PORT');
  if (port !== undefined) options.port = integer('--port', port, 0, 65535);
  const host = pick('host', 'RELAY_HOST');
  if (host !== undefined) options.host = host;
  const idle = pick('idle-timeout', 'RELAY_IDLE_TIMEOUT');
  if (idle !== undefined) options.idleTimeoutMs = integer('--idle-timeout', idle, 1, 86_400 * 365) * 1000;
  const dataDir = pick('data-dir', 'RELAY_DATA_DIR');
  if (dataDir) options.dataDir = dataDir;
  const redisUrl = pick('redis-url', 'RELAY_REDIS_URL');
  if (redisUrl) {
    if (!/^rediss?:\/\/[^\s]+$/.test(redisUrl) || !URL.canParse(redisUrl)) throw new ConfigError(`--redis-url must be a redis:// or rediss:// URL, not ${JSON.stringify(redisUrl.replace(/:[^:@/]*@/, ':***@'))}`);
    options.redisUrl = redisUrl;
  }
  const advertiseUrl = pick('advertise-url', 'RELAY_ADVERTISE_URL');
  if (advertiseUrl) {
    if (!/^http:\/\/[^\s/]+\/?$/.test(advertiseUrl) || !URL.canParse(advertiseUrl)) throw new ConfigError(`--advertise-url must be http://host:port (the hop between relays is plain HTTP on their private network), not ${JSON.stringify(advertiseUrl)}`);
    options.advertiseUrl = advertiseUrl;
  }
  const leaseMs = pick('sandbox-lease-ms', 'RELAY_SANDBOX_LEASE_MS');
  if (leaseMs !== undefined) options.limits = { ...options.limits, sandboxLeaseMs: integer('--sandbox-lease-ms', leaseMs, 500, 600_000) };
  const backend = pick('backend', 'RELAY_BACKEND');
  if (backend !== undefined) {
    if (backend !== 'auto' && backend !== 'bubblewrap' && backend !== 'unisolated') throw new ConfigError(`--backend must be auto, bubblewrap or unisolated, not ${JSON.stringify(backend)}`);
    options.backend = backend;
  }
  const network = pick('network', 'RELAY_NETWORK');
  if (network !== undefined) {
    if (!['on', 'off', 'true', 'false'].includes(network)) throw new ConfigError(`--network must be on or off, not ${JSON.stringify(network)}`);
    options.network = network === 'on' || network === 'true';
  }
  const allow = pick('network-allow', 'RELAY_NETWORK_ALLOW');
  if (allow) options.networkAllow = configured(() => parseNetworkAllow(allow));
  const ids = pick('sandbox-ids', 'RELAY_SANDBOX_IDS');
  if (ids) options.sandboxIds = configured(() => parseSandboxIds(ids));
  const origins = pick('allowed-origins', 'RELAY_ALLOWED_ORIGINS');
  if (origins) options.allowedOrigins = origins.split(',').map((origin) => origin.trim()).filter(Boolean);
  if (values['dev-endpoints'] || env.RELAY_DEV_ENDPOINTS === '1' || env.RELAY_DEV_ENDPOINTS === 'true') options.devEndpoints = true;
  const secretFile = pick('secret-file', 'RELAY_SECRET_FILE');
  const secret = secretFile ? readSecretFile(secretFile) : pick('secret', 'RELAY_SECRET');
  if (secret) {
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new ConfigError(`the secret (${secretFile ? '--secret-file' : '--secret / RELAY_SECRET'}) must be at least ${MIN_SECRET_BYTES} bytes`);
    options.secret = secret;
  }
  try {
    Object.assign(options, parseGuestConfig(values, env));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const level = pick('log-level', 'RELAY_LOG_LEVEL');
  if (level !== undefined) {
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new ConfigError(`--log-level ${JSON.stringify(level)} is not a log level`);
    options.logger = level as RelayOptions['logger'] & string;
  }
  return options;
}

function configured<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function readSecretFile(path: string): string {
  try {
    // One trailing newline is what `echo … > file` leaves; it is not part of the secret.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(`--secret-file ${JSON.stringify(path)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Once read, the secret leaves this process's environment and command line: the variable is unset (so no child
 * inherits it), and its bytes in the original environment and argv blocks are zeroed, which is what
 * /proc/<pid>/environ and /proc/<pid>/cmdline show. A leak of either then holds nothing that signs tokens.
 */
function forgetSecret(secret: string | undefined): void {
  delete process.env.RELAY_SECRET;
  if (!secret) return;
  try {
    nativeFs().scrubMemory(secret);
  } catch {
    // Without the native addon the relay cannot isolate sandboxes either, and says so.
  }
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return value;
}

let options: RelayOptions;
try {
  options = parseConfig(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`sandbox-relay: ${(error as Error).message}\nRun sandbox-relay --help for the options.\n`);
  process.exit(2);
}
forgetSecret(options.secret);

let relay: Relay;
try {
  relay = await createRelay(options);
} catch (error) {
  // A start-up failure (port in use, Redis unreachable, bubblewrap missing with --backend bubblewrap) is the operator's to fix: say it in one line.
  process.stderr.write(`sandbox-relay: ${(error as Error).message}\n`);
  process.exit(1);
}
// The process is the relay's alone here, so its CPU, memory and event-loop metrics belong on /metrics too.
collectDefaultMetrics({ register: relay.metrics.registry });
process.stdout.write(`sandbox-relay listening on ${relay.url}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    relay.logger.info({ signal }, 'saving sessions and stopping');
    void relay.close().then(() => process.exit(0));
  });
}
