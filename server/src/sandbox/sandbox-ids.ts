import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The host uids and gids sandboxes run under. Inside, a sandbox's user namespace maps its ids 0…count-1 onto
 * host ids `uid`…`uid+count-1` (and the same for gids), as rootless containers map onto subordinate ids: root inside
 * is an unprivileged host user, so host files, kernel settings and other users' processes are out of its reach, and
 * files it makes belong to that user on the host. Every sandbox uses the same range: they are apart by their own
 * namespaces, and the range survives sleep, wake and relay restarts, so workspaces keep their owners.
 */
export interface SandboxIds {
  /** Host uid of root inside every sandbox. */
  uid: number;
  /** Host gid of root's group inside. */
  gid: number;
  /** How many consecutive ids are mapped (uid 1000 inside is host `uid + 1000`). */
  count: number;
}

/**
 * 0x70000000: above systemd-nspawn's automatic container range (524288…1879048191) and everything `useradd`, Podman's
 * `/etc/subuid` defaults and systemd's dynamic users hand out, below 2^31 (some tools read uids as signed ints).
 */
export const DEFAULT_SANDBOX_IDS: SandboxIds = { uid: 0x7000_0000, gid: 0x7000_0000, count: 65_536 };

/** Parses `--sandbox-ids START[:COUNT]` (the same range for uids and gids). */
export function parseSandboxIds(text: string): SandboxIds {
  const match = /^(\d+)(?::(\d+))?$/.exec(text.trim());
  const start = Number(match?.[1]);
  const count = match?.[2] === undefined ? DEFAULT_SANDBOX_IDS.count : Number(match[2]);
  if (!match || !Number.isSafeInteger(start) || start < 1000 || !Number.isSafeInteger(count) || count < 1 || start + count > 2 ** 32 - 2) {
    throw new Error(`sandbox ids must be START[:COUNT] with START >= 1000 and the range below 2^32, not ${JSON.stringify(text)}`);
  }
  return { uid: start, gid: start, count };
}

/** The `/proc/<pid>/uid_map` and `gid_map` lines for a sandbox's user namespace. */
export function idMapLines(ids: SandboxIds): { uidMap: string; gidMap: string } {
  return { uidMap: `0 ${ids.uid} ${ids.count}\n`, gidMap: `0 ${ids.gid} ${ids.count}\n` };
}

/** Whether a host id lies in the range (such an owner can be kept when the relay rewrites a sandbox's file). */
export function insideRange(ids: SandboxIds, uid: number, gid: number): boolean {
  return uid >= ids.uid && uid < ids.uid + ids.count && gid >= ids.gid && gid < ids.gid + ids.count;
}

/**
 * Refuses a range that host accounts or other subordinate ranges already use: a sandbox's root would then be that
 * user (and could run its files, read its mail…). Returns what is wrong, or undefined.
 */
export function conflictsOnHost(ids: SandboxIds, files = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' }): string | undefined {
  const overlaps = (start: number, count: number, from: number, length: number) => start < from + length && from < start + count;
  for (const [file, field, base] of [[files.passwd, 2, ids.uid], [files.group, 2, ids.gid]] as const) {
    for (const line of readLines(file)) {
      const parts = line.split(':');
      const id = Number(parts[field]);
      if (Number.isInteger(id) && overlaps(base, ids.count, id, 1)) return `${file} has ${parts[0]} with id ${id}, inside the sandbox id range ${base}-${base + ids.count - 1}`;
    }
  }
  for (const [file, base] of [[files.subuid, ids.uid], [files.subgid, ids.gid]] as const) {
    for (const line of readLines(file)) {
      const [owner, from, length] = line.split(':');
      // A reservation for the relay itself is what an operator should add (SECURITY.md).
      if (owner === 'sandbox-terminal') continue;
      if (overlaps(base, ids.count, Number(from), Number(length))) return `${file} gives ${owner} ids ${from}+${length}, overlapping the sandbox id range ${base}-${base + ids.count - 1}`;
    }
  }
  return undefined;
}

function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((line) => line && !line.startsWith('#'));
}

/**
 * Makes `dir` (and missing parents) a directory only root may pass (0700): no other host user reaches what is below
 * (a set-uid file in a workspace, the FIFOs of a session). bwrap, which runs as a sandbox's uid, gets the two
 * directories it binds through `sandbox-enter --stage` instead of by path.
 */
export function makePrivateDirectory(dir: string): void {
  const parent = dirname(dir);
  if (parent !== dir && !existsSync(parent)) makePrivateDirectory(parent);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a directory`);
  if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) chmodSync(dir, 0o700);
}
