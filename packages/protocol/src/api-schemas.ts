import { z } from 'zod';
import { ENV_NAME_PATTERN, ID_PATTERN, TEMPLATE_NAME_PATTERN } from './api.ts';
import { colsSchema, rowsSchema } from './terminal-schemas.ts';

// Request bodies as the relay validates them. Apart from the relay only the types are used, so a browser bundle
// leaves zod out.

export const idSchema = z.string().regex(ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or digit');

const noNul = (value: string) => !value.includes('\0');
const envSchema = z.record(z.string().regex(ENV_NAME_PATTERN, 'env names must be shell identifiers'), z.string().refine(noNul, 'env values cannot contain a NUL byte'));
const pathSchema = z.string().min(1);
/** A directory inside the sandbox, as the shell would be given it. */
const absolutePathSchema = z.string().refine((path) => path.startsWith('/') && noNul(path), 'must be an absolute path without NUL bytes');

export const createSessionRequest = z
  .object({
    id: idSchema.optional(),
    cwd: pathSchema.optional(),
    env: envSchema.optional(),
    cols: colsSchema.optional(),
    rows: rowsSchema.optional(),
  })
  .strict();
export type CreateSessionRequest = z.infer<typeof createSessionRequest>;

export const execRequest = z
  .object({
    command: z.string().refine(noNul, 'command contains a NUL byte'),
    session: idSchema.optional(),
    cwd: absolutePathSchema.optional(),
    env: envSchema.optional(),
    /** Milliseconds; the command's whole process group is killed when it runs out. */
    timeout: z.number().int().positive().optional(),
    /** Text given to the command on stdin; without it stdin is empty (/dev/null). */
    stdin: z.string().optional(),
  })
  .strict();
export type ExecRequest = z.infer<typeof execRequest>;

export const mkdirRequest = z.object({ path: pathSchema, recursive: z.boolean().optional() }).strict();
export type MkdirRequest = z.infer<typeof mkdirRequest>;

const templateNameSchema = z.string().regex(TEMPLATE_NAME_PATTERN, 'template names are 1-64 characters of a-z A-Z 0-9 . _ -');

/** `PUT /v1/sandboxes/:id`: prepare a sandbox, from a template when one is named. */
export const createSandboxRequest = z.object({ template: templateNameSchema.optional() }).strict();
export type CreateSandboxRequest = z.infer<typeof createSandboxRequest>;

/** `POST /v1/guest/grants`: a fresh guest sandbox, started from a template when one is named. */
export const guestGrantRequest = z.object({ template: templateNameSchema.optional() }).strict();
export type GuestGrantRequest = z.infer<typeof guestGrantRequest>;
