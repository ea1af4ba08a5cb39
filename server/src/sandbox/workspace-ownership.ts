import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { nativeFs } from './native.ts';
import { makePrivateDirectory, type SandboxIds } from './sandbox-ids.ts';
import { fileType } from './workspace-walk.ts';

/** Entries re-owned before the migration lets the event loop run. */
const ENTRIES_PER_TURN = 512;

/**
 * Makes a sandbox's workspace directory ready to be its /workspace: owned by the sandbox's root (host `ids.uid`),
 * mode 0700, below directories only root and the sandboxes' group may pass (see `makePrivateDirectory`).
 *
 * Workspaces made before sandboxes ran under their own ids belong to host root (uid 0 inside was uid 0 outside).
 * Their files are moved into the range once, before the sandbox first starts under it: host uid/gid `n` becomes
 * `ids.uid + n` (`ids.gid + n`), so root's files become the sandbox root's, walked by descriptor without following
 * a symlink. Nothing of the sandbox runs meanwhile. Without ids (no isolation) the directory is only made private.
 */
export async function prepareWorkspace(dir: string, ids: SandboxIds | undefined): Promise<{ migrated: number }> {
  makePrivateDirectory(dirname(dir));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!ids) return { migrated: 0 };
  const info = lstatSync(dir);
  let migrated = 0;
  if (info.uid < ids.uid || info.uid >= ids.uid + ids.count) migrated = await shiftOwnership(dir, ids);
  chownSync(dir, ids.uid, ids.gid);
  chmodSync(dir, 0o700);
  return { migrated };
}

async function shiftOwnership(root: string, ids: SandboxIds): Promise<number> {
  const fs = nativeFs();
  const shift = (id: number, base: number) => (id < ids.count ? base + id : id >= base && id < base + ids.count ? id : base);
  let count = 0;
  // Depth first, one open descriptor per level.
  const walk = async (dirFd: number): Promise<void> => {
    try {
      // Every entry: this runs once per workspace, before its sandbox first starts under the id range.
      for (const name of fs.readdir(dirFd, 2 ** 31 - 1)) {
        if (++count % ENTRIES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
        const stat = fs.fstatat(dirFd, name, fs.AT_SYMLINK_NOFOLLOW);
        fs.fchownat(dirFd, name, shift(stat.uid, ids.uid), shift(stat.gid, ids.gid), fs.AT_SYMLINK_NOFOLLOW);
        if (fileType(stat) === 'directory') await walk(fs.openat(dirFd, name, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW, 0));
      }
    } finally {
      closeSync(dirFd);
    }
  };
  await walk(openSync(root, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW));
  return count;
}
