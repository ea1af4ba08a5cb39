import { execFile } from 'node:child_process';
import { existsSync, openSync, closeSync, ftruncateSync, readFileSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SandboxIds } from './sandbox-ids.ts';

const run = promisify(execFile);
const MKFS = '/usr/sbin/mkfs.ext4';
const MOUNT = '/usr/bin/mount';
const UMOUNT = '/usr/bin/umount';
/** The image beside the workspace, in the sandbox's root-only state directory. */
export const VOLUME_IMAGE = 'workspace.img';
/** Smallest volume worth making (ext4 needs room for its own structures). */
export const MIN_VOLUME_BYTES = 8 * 1024 * 1024;

/**
 * A workspace with a size of its own: an ext4 image (sparse, so it takes only what is used) loop-mounted on the
 * workspace directory. A sandbox filling it gets ENOSPC inside and the files API `NO_SPACE`; the data disk and
 * every other sandbox are untouched. Used when a sandbox has `workspaceBytes` (guest sandboxes, or the relay-wide
 * `sandboxWorkspaceBytes`). The mount lives as long as the relay needs the workspace (asleep too: the files API
 * reads it), goes at close and delete, and a mount left by a killed relay is taken over by the next.
 */
export async function mountWorkspaceVolume(options: { stateDir: string; workspaceDir: string; bytes: number; ids: SandboxIds }): Promise<'mounted' | 'made' | 'already'> {
  const { stateDir, workspaceDir, bytes, ids } = options;
  if (isMountPoint(workspaceDir)) return 'already';
  const image = join(stateDir, VOLUME_IMAGE);
  let made = false;
  if (!existsSync(image)) {
    // Files already there would vanish under the mount: such a workspace keeps its files and no volume.
    if (readdirSync(workspaceDir).length > 0) throw new Error('the workspace already has files; it is not moved to a volume');
    const fd = openSync(image, 'wx', 0o600);
    try {
      ftruncateSync(fd, Math.max(MIN_VOLUME_BYTES, bytes));
    } finally {
      closeSync(fd);
    }
    try {
      // -m 0: no blocks kept for root (root inside is the user); root_owner: /workspace belongs to the sandbox's root.
      await run(MKFS, ['-q', '-F', '-m', '0', '-E', `root_owner=${ids.uid}:${ids.gid}`, image]);
    } catch (error) {
      rmSync(image, { force: true });
      throw error;
    }
    made = true;
  }
  await run(MOUNT, ['-o', 'loop,nosuid,nodev,noatime', image, workspaceDir]);
  // ext4's lost+found would be a stray root-owned directory in the user's workspace; fsck makes it again if needed.
  if (made && existsSync(join(workspaceDir, 'lost+found'))) rmdirSync(join(workspaceDir, 'lost+found'));
  return made ? 'made' : 'mounted';
}

/** Unmounts a workspace volume (no-op when the directory is not a mount point). */
export async function unmountWorkspaceVolume(workspaceDir: string): Promise<void> {
  if (!isMountPoint(workspaceDir)) return;
  await run(UMOUNT, [workspaceDir]);
}

/** Whether `dir` is a mount point in the relay's mount namespace. */
export function isMountPoint(dir: string): boolean {
  const escaped = dir.replace(/[ \t\n\\]/g, (character) => `\\${character.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === escaped);
}
