// Cloudflare Sandbox SDK 0.12's session calls, on this relay's client: a thin adapter for moving an application call
// by call (docs/migrating-from-cloudflare.md). Copy it into an application that wants its 0.x call sites to keep
// their shape while it moves; new code should call `Sandbox` directly.
import { SandboxError, type ExecOptions, type Sandbox } from '@sandbox-terminal/client';

/** 0.12's `ExecResult`, plus what this relay adds (`sessionRecreated`, `timedOut`, `truncated`). */
export interface CompatExecResult {
  success: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
  command: string;
  /** Milliseconds (0.12's name; the client's is `durationMs`). */
  duration: number;
  timestamp: string;
  sessionId?: string;
  sessionRecreated: boolean;
  timedOut: boolean;
  truncated: boolean;
}

/** The options 0.12's `exec` takes that mean something here; `stream`/`onOutput` become `execStream`. */
export interface CompatExecOptions {
  timeout?: number;
  env?: Record<string, string>;
  cwd?: string;
  signal?: AbortSignal;
  /** 0.12 streamed through callbacks; here the same events come from `execStream`. */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
}

/** 0.12's `ExecutionSession`, the calls an application on sessions uses. */
export interface CompatSession {
  readonly id: string;
  exec(command: string, options?: CompatExecOptions): Promise<CompatExecResult>;
  writeFile(path: string, content: string, options?: { encoding?: 'utf-8' | 'utf8' | 'base64' }): Promise<{ success: boolean; path: string; timestamp: string }>;
  readFile(path: string, options?: { encoding?: 'utf-8' | 'utf8' | 'base64' }): Promise<{ success: boolean; path: string; content: string; timestamp: string; encoding: 'utf-8' | 'base64' }>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<{ success: boolean; path: string }>;
  exists(path: string): Promise<{ success: boolean; exists: boolean }>;
}

/** 0.12's sandbox: the session calls and, through its default session (see `defaultSession`), the same calls. */
export interface CompatSandbox extends Omit<CompatSession, 'id'> {
  createSession(options?: { id?: string; env?: Record<string, string>; cwd?: string }): Promise<CompatSession>;
  getSession(sessionId: string): Promise<CompatSession>;
  deleteSession(sessionId: string): Promise<{ success: boolean; sessionId: string; timestamp: string }>;
}

/** The id of the session that plays 0.12's default session (`sandbox-<id>` there). */
export const DEFAULT_SESSION_ID = 'default';

/**
 * `sandbox` with 0.12's shapes. `defaultSession: true` is 0.12's default (`enableDefaultSession`): a sandbox's own
 * `exec` runs in one shared session, so `cd` carries over; `false` gives a fresh shell per call, as this relay does
 * without a session and as 0.12 did with `enableDefaultSession: false`.
 */
export function cloudflareCompatible(sandbox: Sandbox, { defaultSession = true } = {}): CompatSandbox {
  let defaultId: Promise<string> | undefined;
  const sessionFor = (): Promise<string | undefined> => {
    if (!defaultSession) return Promise.resolve(undefined);
    defaultId ??= sandbox.createSession({ id: DEFAULT_SESSION_ID }).catch((error: unknown) => {
      if (error instanceof SandboxError && error.code === 'SESSION_EXISTS') return DEFAULT_SESSION_ID;
      defaultId = undefined;
      throw error;
    });
    return defaultId;
  };
  const calls = (session: () => Promise<string | undefined>): Omit<CompatSession, 'id'> => ({
    exec: async (command, options = {}) => exec(sandbox, command, await session(), options),
    writeFile: async (path, content, options = {}) => {
      await sandbox.writeFile(path, options.encoding === 'base64' ? Uint8Array.from(atob(content), (c) => c.charCodeAt(0)) : content);
      return { success: true, path, timestamp: new Date().toISOString() };
    },
    readFile: async (path, options = {}) => {
      const timestamp = new Date().toISOString();
      if (options.encoding !== 'base64') return { success: true, path, content: await sandbox.readFile(path), timestamp, encoding: 'utf-8' };
      const bytes = await sandbox.readFile(path, { encoding: 'binary' });
      return { success: true, path, content: btoa(String.fromCharCode(...bytes)), timestamp, encoding: 'base64' };
    },
    mkdir: async (path, options = {}) => {
      await sandbox.mkdir(path, options);
      return { success: true, path };
    },
    exists: async (path) => ({ success: true, exists: await sandbox.exists(path) }),
  });
  const session = (id: string): CompatSession => ({ id, ...calls(() => Promise.resolve(id)) });
  return {
    ...calls(sessionFor),
    createSession: async (options = {}) => session(await sandbox.createSession(options)),
    // 0.12 hands back a wrapper without asking the container; an unknown id fails at its first call, as here.
    getSession: async (sessionId) => session(sessionId),
    deleteSession: async (sessionId) => {
      await sandbox.deleteSession(sessionId);
      return { success: true, sessionId, timestamp: new Date().toISOString() };
    },
  };
}

async function exec(sandbox: Sandbox, command: string, session: string | undefined, options: CompatExecOptions): Promise<CompatExecResult> {
  const { onOutput, ...rest } = options;
  const execOptions: ExecOptions = { ...rest, ...(session ? { session } : {}) };
  const timestamp = new Date().toISOString();
  if (!onOutput) {
    const result = await sandbox.exec(command, execOptions);
    const { durationMs, limitsHit: _limits, session: _session, ...fields } = result;
    return { ...fields, duration: durationMs, timestamp, ...(session ? { sessionId: session } : {}) };
  }
  // 0.12's `stream: true` with callbacks, from the NDJSON event stream.
  let stdout = '';
  let stderr = '';
  let sessionRecreated = false;
  for await (const event of sandbox.execStream(command, execOptions)) {
    if (event.type === 'start') sessionRecreated = event.sessionRecreated;
    else if (event.type === 'stdout' || event.type === 'stderr') {
      if (event.type === 'stdout') stdout += event.data;
      else stderr += event.data;
      onOutput(event.type, event.data);
    } else if (event.type === 'exit') {
      const { exitCode, success, timedOut, truncated, durationMs } = event;
      return { success, exitCode, stdout, stderr, command, duration: durationMs, timestamp, sessionRecreated, timedOut, truncated, ...(session ? { sessionId: session } : {}) };
    } else if (event.type === 'error') {
      throw new SandboxError({ code: event.code as SandboxError['code'], message: event.message });
    }
  }
  throw new Error(`exec stream for ${JSON.stringify(command)} ended without an exit event`);
}
