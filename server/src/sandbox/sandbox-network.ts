import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { BlockList, isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { SandboxIds } from './sandbox-ids.ts';

/**
 * Outbound network for a sandbox: its own network namespace (never the host's), connected to the world by pasta
 * (passt's user-mode stack, run as the sandbox's unprivileged host uid), so every connection leaves as an ordinary
 * socket of the host. What the sandbox must not reach is cut inside its namespace with `prohibit` routes, which its
 * root cannot change (no CAP_NET_ADMIN): the host's loopback is never forwarded (`-T none -U none --no-map-gw`),
 * and the host's own addresses and networks, private and link-local ranges (the cloud metadata address among them)
 * answer "permission denied" unless the operator allows a range (`--network-allow`). IPv4 only.
 * See SECURITY.md, "Network".
 */

const PASTA = '/usr/bin/pasta';
const NSENTER = '/usr/bin/nsenter';
const IP = '/usr/bin/ip';
/** Inside a sandbox, DNS goes to this address; pasta forwards it to the host's first resolver (UDP port 53 only). */
export const SANDBOX_DNS_ADDRESS = '169.254.0.53';
/** How long pasta may take to set up the namespace's interface. */
const PASTA_START_TIMEOUT_MS = 10_000;
const PASTA_POLL_MS = 3;

/**
 * Never reachable from a sandbox unless allowed: "this network", RFC 1918 private networks, carrier-grade NAT,
 * link-local (169.254.169.254, the cloud metadata service), IETF protocol assignments, benchmarking, multicast and
 * reserved space. Loopback needs no rule: 127.0.0.0/8 is the namespace's own.
 */
export const BLOCKED_RANGES = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16',
  '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
];

export interface NetworkOptions {
  /** CIDR ranges a sandbox may reach although they are blocked (a package mirror on the LAN, …). */
  allow: string[];
}

/** Parses `--network-allow a.b.c.d/n,…`; throws on anything that is not an IPv4 CIDR. */
export function parseNetworkAllow(text: string): string[] {
  return text.split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const [address, bits = '32'] = entry.split('/');
    const prefix = Number(bits);
    if (!address || !isIPv4(address) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`--network-allow takes IPv4 CIDR ranges, not ${JSON.stringify(entry)}`);
    return `${address}/${prefix}`;
  });
}

/** The host's IPv4 default route (pasta copies it into the namespace), or undefined when there is none. */
export function hostDefaultRoute(): { gateway: string; device: string } | undefined {
  return defaultRoute('/proc/net/route');
}

/** The IPv4 default route in a `/proc/…/net/route` table. */
function defaultRoute(table: string): { gateway: string; device: string } | undefined {
  let text: string;
  try {
    text = readFileSync(table, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').slice(1)) {
    const [device, destination, gateway, , , , , mask] = line.trim().split(/\s+/);
    if (device && destination === '00000000' && mask === '00000000' && gateway) {
      const bytes = Buffer.from(gateway, 'hex');
      return { gateway: [bytes[3], bytes[2], bytes[1], bytes[0]].join('.'), device };
    }
  }
  return undefined;
}

const TUN = '/dev/net/tun';

/** Whether network "on" can work here: pasta, nsenter and ip installed, a tun device, and an IPv4 default route to copy. */
export function probeNetwork(): { ok: true } | { ok: false; reason: string } {
  for (const tool of [PASTA, NSENTER, IP]) if (!existsSync(tool)) return { ok: false, reason: `${tool} not found (install passt, util-linux and iproute2)` };
  if (!existsSync(TUN)) return { ok: false, reason: `${TUN} is missing (the tun driver)` };
  if (!hostDefaultRoute()) return { ok: false, reason: 'the host has no IPv4 default route for pasta to copy' };
  return { ok: true };
}

/**
 * pasta runs as the sandboxes' host uid and opens /dev/net/tun, which desktop distributions leave open to everyone
 * (udev's 0666) but minimal hosts keep root's (0600). Then the device is given to the sandboxes' group (0660): that is
 * all the relay changes on the host. Returns what it did, for the log.
 */
export function allowTunFor(ids: SandboxIds): string | undefined {
  const info = statSync(TUN);
  const othersMayUse = (info.mode & 0o006) === 0o006;
  const groupMayUse = info.gid === ids.gid && (info.mode & 0o060) === 0o060;
  if (othersMayUse || groupMayUse) return undefined;
  chownSync(TUN, info.uid, ids.gid);
  chmodSync(TUN, (info.mode & 0o7777) | 0o060);
  return `${TUN} given to group ${ids.gid} (mode ${((info.mode & 0o777) | 0o060).toString(8)}) so pasta can run as the sandboxes' user`;
}

/** The `ip -batch` commands that close off everything blocked, then reopen the allowed ranges and the DNS forwarder. */
export function routeCommands(allow: string[], route: { gateway: string; device: string }, hostNetworks = hostIPv4Networks()): string[] {
  const via = `via ${route.gateway} dev ${route.device} onlink`;
  const commands = [
    // The gateway stays the next hop even once its own network is prohibited.
    `route replace default ${via}`,
  ];
  // `replace` also turns the connected route pasta made for the host's own network into a prohibit route.
  const blocked = [...new Set([...BLOCKED_RANGES, ...hostNetworks])];
  for (const range of blocked) if (!allow.includes(range)) commands.push(`route replace prohibit ${range}`);
  for (const range of [...allow, `${SANDBOX_DNS_ADDRESS}/32`]) commands.push(`route replace ${range} ${via}`);
  return commands;
}

/**
 * Every IPv4 network and address of the host's interfaces, as CIDR, so a relay or database listening on 0.0.0.0 is
 * out of reach; 127.0.0.0/8 is left out (inside it is the namespace's own loopback), extra addresses on `lo` are not.
 */
export function hostIPv4Networks(): string[] {
  const networks = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family !== 'IPv4' || !address.cidr || address.address.startsWith('127.')) continue;
      networks.add(networkOf(address.cidr));
      networks.add(`${address.address}/32`);
    }
  }
  return [...networks];
}

function networkOf(cidr: string): string {
  const [address, bits] = cidr.split('/') as [string, string];
  const prefix = Number(bits);
  const value = address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  const base = prefix === 0 ? 0 : Math.floor(value / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  return `${[24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join('.')}/${prefix}`;
}

/** True when `address` would be refused inside a sandbox (for tests and for explaining a refused connection). */
export function isBlocked(address: string, allow: string[], hostNetworks = hostIPv4Networks()): boolean {
  const list = (ranges: string[]) => {
    const blockList = new BlockList();
    for (const range of ranges) {
      const [network, bits] = range.split('/') as [string, string];
      blockList.addSubnet(network, Number(bits), 'ipv4');
    }
    return blockList;
  };
  return list([...BLOCKED_RANGES, ...hostNetworks]).check(address, 'ipv4') && !list(allow).check(address, 'ipv4');
}

/**
 * Connects a started sandbox (its init `pid`) to the network: pasta as the sandbox's host uid (through `helper
 * --become`), then the routes. Resolves with pasta's process, which the caller kills when the sandbox stops.
 */
export async function connectSandbox(options: { pid: number; helper: string; ids: SandboxIds; allow: string[] }): Promise<ChildProcess> {
  const route = hostDefaultRoute();
  if (!route) throw new Error('the host has no IPv4 default route');
  const pasta = spawn(options.helper, [
    '--become', `${options.ids.uid}:${options.ids.gid}`, '--', PASTA,
    '--config-net', '--foreground', '--quiet', '--ipv4-only',
    // No port forwarding either way, and the gateway is not the host: nothing reaches the host's loopback.
    '--tcp-ports', 'none', '--udp-ports', 'none', '--tcp-ns', 'none', '--udp-ns', 'none', '--no-map-gw',
    '--dns-forward', SANDBOX_DNS_ADDRESS, String(options.pid),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  pasta.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    await untilConfigured(options.pid, pasta);
    await runIpBatch(options.pid, routeCommands(options.allow, route));
    return pasta;
  } catch (error) {
    pasta.kill('SIGKILL');
    throw new Error(`${(error as Error).message}${stderr ? `: ${stderr.trim().split('\n').filter((line) => !line.includes('syslog')).join('; ')}` : ''}`);
  }
}

/**
 * pasta has configured the namespace once its default route is there: the relay reads it in the route table of the
 * sandbox's init (`/proc/<pid>/net/route` shows that process's network namespace). In the foreground, pasta says
 * nothing when it is ready; in the background it would outlive the sandbox.
 */
async function untilConfigured(pid: number, pasta: ChildProcess): Promise<void> {
  const deadline = Date.now() + PASTA_START_TIMEOUT_MS;
  while (!defaultRoute(`/proc/${pid}/net/route`)) {
    if (pasta.exitCode !== null || pasta.signalCode !== null) throw new Error(`pasta exited with ${pasta.exitCode ?? pasta.signalCode}`);
    if (Date.now() > deadline) throw new Error('pasta did not configure the network in time');
    await new Promise((resolve) => setTimeout(resolve, PASTA_POLL_MS));
  }
}

/** Runs `ip -batch -` inside the sandbox's user and network namespaces, with the capabilities root has there. */
function runIpBatch(pid: number, commands: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ip = spawn(NSENTER, ['-t', String(pid), '-U', '-n', '--', IP, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    ip.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    ip.once('error', reject);
    ip.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ip -batch failed (${code}): ${stderr.trim()}`))));
    ip.stdin?.end(`${commands.join('\n')}\n`);
  });
}
