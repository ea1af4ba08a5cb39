import { readFileSync } from 'node:fs';

/**
 * The relay's side of the contract with each session's bash (the shell side is `BASHRC` below).
 *
 * - At every prompt, PS1 ends with an OSC 6973 `P` marker. Readline prints the prompt only after it has put the
 *   terminal into its own mode, so once the relay sees `P` it may send the exec key.
 * - `EXEC_KEY` is bound with `bind -x` to source the session's job file at the top level of the interactive shell:
 *   the command runs in that very shell (cd, export, functions and history persist) while the user's half-typed
 *   line stays in readline. The job prints the command after the prompt, then a `B;<id>` marker, so a viewer sees
 *   what the program runs.
 * - stdout and stderr of the command go to two FIFOs the relay reads; each ends with an end marker carrying the
 *   job id (and on stdout the exit code), then `E;<id>` is printed on the terminal. A job interrupted by SIGINT
 *   is finished by PROMPT_COMMAND instead.
 * - The shell writes its cwd and `export -p` to a state FIFO at every prompt and after every job; the relay keeps
 *   the latest record, to recreate the session after the sandbox slept.
 * - The control directory is read-only inside the sandbox: the shell writes only to FIFOs, so nothing in it can
 *   make the relay follow a symlink to a host file.
 */

/** Private-use OSC number for the markers; xterm.js and other terminals ignore OSC numbers they do not know. */
export const OSC_MARKER_PREFIX = '\x1b]6973;';
export const OSC_MARKER_TERMINATOR = '\x07';
export const OUTPUT_END_PREFIX = '\0\0ST-END:';
export const OUTPUT_END_TERMINATOR = '\0\0';
/** Ends each record on the state FIFO. */
export const STATE_END_PREFIX = '\0\0ST-STATE';
export const STATE_END_TERMINATOR = '\0\0';
/** A key sequence no keyboard sends (function keys stop at \e[34~), bound to "run the job file". */
export const EXEC_KEY = '\x1b[5999~';

export const CONTROL_FILES = {
  bashrc: 'bashrc',
  job: 'job',
  stdout: 'out',
  stderr: 'err',
  stdin: 'stdin',
  state: 'state',
  restoreTty: 'restore-tty',
} as const;

/** The rc file every session shell starts with (`bash --rcfile`), kept as a real shell file beside this module. */
export const BASHRC = readFileSync(new URL('./bashrc.sh', import.meta.url), 'utf8');

/** Quotes a string for bash so that it is one word with exactly this value. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface JobSpec {
  id: string;
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Whether `CONTROL_FILES.stdin` holds the command's stdin; otherwise stdin is /dev/null. */
  hasStdin: boolean;
}

/**
 * The job file the exec key sources. Per-call cwd and env are set for this command only: `__st_restore`
 * collects the statements that put the previous values back, and the key binding runs it after the command.
 */
export function jobScript(job: JobSpec): string {
  const lines = [`__st_job=${job.id}`, '__st_restore=', `__st_begin ${shellQuote(job.command)} ${job.id}`];
  if (job.cwd !== undefined) {
    lines.push('__st_restore+="builtin cd -- ${PWD@Q} 2>/dev/null;"');
    lines.push(`builtin cd -- ${shellQuote(job.cwd)} 2>>"$__st_ctl/err" || return 1`);
  }
  for (const [name, value] of Object.entries(job.env ?? {})) {
    // Names are validated as shell identifiers by the protocol schema before they get here.
    lines.push(`if [[ -v ${name} ]]; then __st_restore+="\${${name}@A};"; else __st_restore+="unset ${name};"; fi`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  const stdin = job.hasStdin ? '"$__st_ctl/stdin"' : '/dev/null';
  lines.push(`builtin eval ${shellQuote(job.command)} <${stdin} >>"$__st_ctl/out" 2>>"$__st_ctl/err"`);
  return `${lines.join('\n')}\n`;
}

/** Variables bash manages itself or that belong to the terminal, not to the session's saved environment. */
const UNSAVED_VARIABLES = new Set([
  'PWD', 'OLDPWD', 'SHLVL', '_', 'COLUMNS', 'LINES', 'HISTFILE', 'PS1', 'PROMPT_COMMAND',
  // readline's, exported by bash only while a `bind -x` command runs
  'READLINE_LINE', 'READLINE_POINT', 'READLINE_MARK', 'READLINE_ARGUMENT',
]);

export interface ShellState {
  cwd: string;
  env: Record<string, string>;
}

/** Parses a state record: the cwd, a NUL, then `export -p` output. Returns undefined if it is unusable. */
export function parseStateFile(content: Buffer): ShellState | undefined {
  const nul = content.indexOf(0);
  if (nul <= 0) return undefined;
  const cwd = content.toString('utf8', 0, nul);
  return { cwd, env: parseExportP(content.subarray(nul + 1)) };
}

/**
 * Parses bash's `export -p` listing: `declare -x NAME="value"` with backslash escapes, or `declare -x NAME=$'...'`
 * (ANSI-C quoting with octal escapes, used for control characters and non-ASCII bytes), or a bare `declare -x NAME`
 * for a variable that is exported but unset (skipped).
 */
export function parseExportP(content: Buffer): Record<string, string> {
  const env: Record<string, string> = {};
  const text = content.toString('latin1'); // byte-preserving; values are re-decoded as UTF-8 below
  const pattern = /^declare -[-a-zA-Z]*x[a-zA-Z]* ([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|\$'((?:[^'\\]|\\.)*)')$/gms;
  for (const match of text.matchAll(pattern)) {
    const name = match[1]!;
    if (UNSAVED_VARIABLES.has(name) || name.startsWith('__st')) continue;
    const bytes = match[2] !== undefined ? unescapeDoubleQuoted(match[2]) : unescapeAnsiC(match[3] ?? '');
    env[name] = Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return env;
}

function unescapeDoubleQuoted(value: string): string {
  return value.replace(/\\([\\"$`])/g, '$1');
}

const ANSI_C_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?',
};

function unescapeAnsiC(value: string): string {
  return value.replace(/\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|c.|.)/gs, (_all, escape: string) => {
    if (/^[0-7]/.test(escape)) return String.fromCharCode(parseInt(escape, 8) & 0xff);
    if (escape[0] === 'x' && escape.length > 1) return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (escape[0] === 'c' && escape.length === 2) return String.fromCharCode(escape.charCodeAt(1) & 0x1f);
    return ANSI_C_ESCAPES[escape] ?? `\\${escape}`;
  });
}
