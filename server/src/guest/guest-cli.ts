import { DEFAULT_GUEST_LIMITS, type GuestLimits } from '../limits.ts';
import type { GuestOptions } from './guest-options.ts';

/** The CLI's help lines for guest mode and templates (cli.ts prints them with the rest). */
export const GUEST_HELP = `  --template <n=dir>     RELAY_TEMPLATES     a workspace template: new sandboxes may start as a copy of dir (repeat the
                                             flag; the variable takes a comma-separated list of name=dir)
  --guest                RELAY_GUEST         guest mode: pages without a token get a sandbox of their own (POST
                                             /v1/guest/grants) with guest limits; needs --secret
  --guest-network <on|off> RELAY_GUEST_NETWORK  whether guest sandboxes reach the network (default off)
  --guest-limit <n=v>    RELAY_GUEST_LIMITS  one guest limit (repeat the flag; the variable takes a comma-separated
                                             list): ${Object.keys(DEFAULT_GUEST_LIMITS).join(', ')}
  --trust-proxy          RELAY_TRUST_PROXY   behind a reverse proxy: per-client limits read the last X-Forwarded-For entry
`;

/** The parseArgs options these flags need. */
export const GUEST_FLAGS = {
  template: { type: 'string', multiple: true },
  guest: { type: 'boolean' },
  'guest-network': { type: 'string' },
  'guest-limit': { type: 'string', multiple: true },
  'trust-proxy': { type: 'boolean' },
} as const;

export interface GuestFlagValues {
  template?: string[] | undefined;
  guest?: boolean | undefined;
  'guest-network'?: string | undefined;
  'guest-limit'?: string[] | undefined;
  'trust-proxy'?: boolean | undefined;
}

export interface GuestConfig {
  templates?: Record<string, string>;
  guest?: GuestOptions;
  trustProxy?: boolean;
}

/** Flags win over variables; every malformed value is an Error whose message names the flag. */
export function parseGuestConfig(values: GuestFlagValues, env: NodeJS.ProcessEnv): GuestConfig {
  const config: GuestConfig = {};
  const templates = values.template ?? list(env.RELAY_TEMPLATES);
  if (templates.length) config.templates = Object.fromEntries(templates.map((entry) => pair('--template', entry)));
  const on = values.guest ?? truthy(env.RELAY_GUEST);
  const network = values['guest-network'] ?? env.RELAY_GUEST_NETWORK;
  const limitEntries = values['guest-limit'] ?? list(env.RELAY_GUEST_LIMITS);
  if (on) {
    const guest: GuestOptions = {};
    if (network !== undefined) {
      if (!['on', 'off', 'true', 'false'].includes(network)) throw new Error(`--guest-network must be on or off, not ${JSON.stringify(network)}`);
      guest.network = network === 'on' || network === 'true';
    }
    if (limitEntries.length) guest.limits = Object.fromEntries(limitEntries.map(guestLimit));
    config.guest = guest;
  } else if (network !== undefined || limitEntries.length) {
    throw new Error('--guest-network and --guest-limit need --guest');
  }
  if (values['trust-proxy'] ?? truthy(env.RELAY_TRUST_PROXY)) config.trustProxy = true;
  return config;
}

function guestLimit(entry: string): [keyof GuestLimits, number] {
  const [name, text] = pair('--guest-limit', entry);
  if (!(name in DEFAULT_GUEST_LIMITS)) throw new Error(`--guest-limit: no guest limit named ${JSON.stringify(name)} (known: ${Object.keys(DEFAULT_GUEST_LIMITS).join(', ')})`);
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (name !== 'guestCpuCores' && !Number.isInteger(value))) throw new Error(`--guest-limit ${name} must be a ${name === 'guestCpuCores' ? '' : 'whole '}number of at least 0, not ${JSON.stringify(text)}`);
  return [name as keyof GuestLimits, value];
}

function pair(flag: string, entry: string): [string, string] {
  const at = entry.indexOf('=');
  if (at <= 0 || at === entry.length - 1) throw new Error(`${flag} takes name=value, not ${JSON.stringify(entry)}`);
  return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

function truthy(text: string | undefined): boolean | undefined {
  return text === undefined ? undefined : text === '1' || text === 'true' || text === 'on';
}
