import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { TEMPLATE_NAME_PATTERN } from '@sandbox-terminal/protocol';
import { RelayError } from '../errors.ts';
import type { WorkspaceFiles } from './workspace-files.ts';

/** What copying a template wrote, for the log. */
export interface TemplateCopy {
  files: number;
  bytes: number;
  /** Template entries that are neither files nor directories (symlinks, sockets…), left out. */
  skipped: string[];
}

interface TemplateEntry {
  /** Path relative to the template's root, with `/` separators. */
  path: string;
  kind: 'file' | 'directory' | 'other';
  executable: boolean;
  bytes: number;
}

/**
 * The relay's named workspace templates (`--template NAME=DIR`): directories the operator controls, copied into a new
 * sandbox's `/workspace`. Templates are trusted and read by name; the copy goes through the sandbox's `WorkspaceFiles`
 * (never `cp` as root), which is what gives the files the sandbox's owner and keeps them under `/workspace`.
 */
export class WorkspaceTemplates {
  readonly #entries: ReadonlyMap<string, TemplateEntry[]>;
  readonly #dirs: ReadonlyMap<string, string>;

  private constructor(dirs: Map<string, string>, entries: Map<string, TemplateEntry[]>) {
    this.#dirs = dirs;
    this.#entries = entries;
  }

  /** Checks every template at start: a name the protocol accepts and a directory that exists. */
  static async load(templates: Record<string, string> = {}): Promise<WorkspaceTemplates> {
    const dirs = new Map<string, string>();
    const entries = new Map<string, TemplateEntry[]>();
    for (const [name, dir] of Object.entries(templates)) {
      if (!TEMPLATE_NAME_PATTERN.test(name)) throw new Error(`template name ${JSON.stringify(name)} must be 1-64 characters of a-z A-Z 0-9 . _ - (starting with a letter or digit)`);
      const root = resolve(dir);
      const info = await stat(root).catch(() => undefined);
      if (!info?.isDirectory()) throw new Error(`template ${name}: ${root} is not a directory`);
      dirs.set(name, root);
      entries.set(name, await walk(root, ''));
    }
    return new WorkspaceTemplates(dirs, entries);
  }

  get names(): string[] {
    return [...this.#dirs.keys()].sort();
  }

  /** Throws TEMPLATE_NOT_FOUND for a name the relay was not started with. */
  require(name: string): void {
    if (!this.#dirs.has(name)) throw new RelayError('TEMPLATE_NOT_FOUND', `no template named ${JSON.stringify(name).slice(0, 80)} on this relay`, { templates: this.names });
  }

  /** Bytes of file content in the template (as measured at start). */
  sizeBytes(name: string): number {
    return (this.#entries.get(name) ?? []).reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** Copies the template into a workspace through its files API; directories first, as the walk found them. */
  async copyInto(name: string, files: WorkspaceFiles): Promise<TemplateCopy> {
    this.require(name);
    const root = this.#dirs.get(name)!;
    const copy: TemplateCopy = { files: 0, bytes: 0, skipped: [] };
    for (const entry of this.#entries.get(name)!) {
      const sandboxPath = posix.join('/workspace', entry.path);
      if (entry.kind === 'directory') {
        await files.mkdir(sandboxPath, true);
      } else if (entry.kind === 'file') {
        const content = await readFile(join(root, entry.path));
        await files.write(sandboxPath, content, { mode: entry.executable ? 0o755 : 0o644 });
        copy.files++;
        copy.bytes += content.byteLength;
      } else {
        copy.skipped.push(sandboxPath);
      }
    }
    return copy;
  }
}

async function walk(root: string, relative: string): Promise<TemplateEntry[]> {
  const found: TemplateEntry[] = [];
  const children: Dirent[] = await readdir(join(root, relative), { withFileTypes: true });
  for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = relative ? `${relative}/${child.name}` : child.name;
    if (child.isDirectory()) {
      found.push({ path, kind: 'directory', executable: false, bytes: 0 });
      found.push(...(await walk(root, path)));
    } else if (child.isFile()) {
      const info = await stat(join(root, path));
      found.push({ path, kind: 'file', executable: (info.mode & 0o111) !== 0, bytes: info.size });
    } else {
      found.push({ path, kind: 'other', executable: false, bytes: 0 });
    }
  }
  return found;
}
