import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreateSandboxResponse } from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RelayError } from '../errors.ts';
import type { SandboxPool } from './sandbox-pool.ts';
import type { WorkspaceTemplates } from './workspace-templates.ts';

/** The relay's note, beside a workspace, of the template it was started from. */
const TEMPLATE_NOTE = 'template.json';
const templateNote = z.object({ template: z.string(), createdAt: z.string() });

/**
 * Whole-sandbox operations behind `PUT` and `DELETE /v1/sandboxes/:id`: preparing a sandbox from a template, and
 * deleting it (the reset a docs page offers). Calls for one sandbox run one after another.
 */
export class SandboxLifecycle {
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly pool: SandboxPool,
    readonly templates: WorkspaceTemplates,
    private readonly log: Logger,
  ) {}

  /**
   * Makes sure the sandbox exists; with a template, that its workspace was started from it. A workspace that already
   * has files, or came from another template, is left alone and refused with SANDBOX_EXISTS: a template never
   * overwrites what a reader made.
   */
  prepare(sandboxId: string, template?: string): Promise<CreateSandboxResponse> {
    if (template !== undefined) this.templates.require(template);
    return this.#serially(sandboxId, async () => {
      const runtime = this.pool.sandbox(sandboxId);
      // A workspace volume is mounted by then, so what is in it is what counts.
      await runtime.workspaceReady;
      const note = await this.#readNote(sandboxId);
      if (template === undefined || note?.template === template) return { id: sandboxId, template: note?.template ?? null, created: false };
      if (note) throw new RelayError('SANDBOX_EXISTS', `sandbox ${sandboxId} was started from template ${note.template}; delete it to start it from ${template}`);
      if ((await readdir(runtime.dirs.workspace)).length > 0) {
        throw new RelayError('SANDBOX_EXISTS', `sandbox ${sandboxId} already has files in /workspace; delete it to start it from template ${template}`);
      }
      const copy = await this.templates.copyInto(template, runtime.files);
      await writeFile(join(this.pool.sandboxStateDir(sandboxId), TEMPLATE_NOTE), JSON.stringify({ template, createdAt: new Date().toISOString() }));
      this.log.info({ sandbox: sandboxId, template, files: copy.files, bytes: copy.bytes, ...(copy.skipped.length ? { skipped: copy.skipped } : {}) }, 'sandbox started from template');
      return { id: sandboxId, template, created: true };
    });
  }

  /** Deletes the sandbox's sessions, processes and workspace (see `SandboxPool.deleteSandbox`). */
  delete(sandboxId: string): Promise<void> {
    return this.#serially(sandboxId, async () => {
      await this.pool.deleteSandbox(sandboxId);
      await rm(join(this.pool.sandboxStateDir(sandboxId), TEMPLATE_NOTE), { force: true });
    });
  }

  /** Deletes the sandbox and everything the relay kept about it (a guest sandbox at the end of its lifetime). */
  remove(sandboxId: string): Promise<void> {
    return this.#serially(sandboxId, async () => {
      await this.pool.deleteSandbox(sandboxId);
      await rm(this.pool.sandboxStateDir(sandboxId), { recursive: true, force: true });
    });
  }

  async #readNote(sandboxId: string): Promise<z.infer<typeof templateNote> | undefined> {
    const text = await readFile(join(this.pool.sandboxStateDir(sandboxId), TEMPLATE_NOTE), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const parsed = templateNote.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  }

  /** One call after another per sandbox; while a deletion runs, every other call is refused at once rather than queued. */
  #serially<T>(sandboxId: string, task: () => Promise<T>): Promise<T> {
    if (this.pool.isDeleting(sandboxId)) return Promise.reject(new RelayError('SANDBOX_DELETING', `sandbox ${sandboxId} is being deleted; try again in a moment`));
    const previous = this.#queues.get(sandboxId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    this.#queues.set(sandboxId, next);
    void next.catch(() => undefined).then(() => {
      if (this.#queues.get(sandboxId) === next) this.#queues.delete(sandboxId);
    });
    return next;
  }
}

