import type { SandboxPaths } from '../sandbox/backend.ts';

/** PATH inside every sandbox (Debian's default for root). */
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment a sandbox process starts with: nothing of the relay's own environment leaks in. */
export function baseEnvironment(paths: SandboxPaths): Record<string, string> {
  return {
    HOME: paths.workspace,
    PATH: SANDBOX_PATH,
    TERM: 'xterm-256color',
    COLORTERM: 'truecolor',
    LANG: 'C.UTF-8',
    SHELL: '/bin/bash',
    USER: 'root',
    HOSTNAME: 'sandbox',
  };
}

/**
 * A session shell's environment: the base, then the session's own exported variables (given at creation or
 * restored after sleep), then what the shell integration needs to find its control directory and start directory.
 */
export function sessionEnvironment(
  paths: SandboxPaths,
  controlPath: string,
  cwd: string,
  sessionEnv: Record<string, string>,
): Record<string, string> {
  return { ...baseEnvironment(paths), ...sessionEnv, __ST_CTL: controlPath, __ST_CWD: cwd };
}
