import type { IDisposable, Terminal } from '@xterm/xterm';

/** OSC 7: the shell reports its working directory as a `file://host/path` URL at every prompt. */
const OSC_CURRENT_DIRECTORY = 7;

/**
 * Follows what the shell reports between the bytes: its working directory (OSC 7 at each prompt) and, from that,
 * whether a command is running (Enter was typed and no prompt has come back yet).
 */
export class ShellIntegration implements IDisposable {
  readonly #disposables: IDisposable[] = [];
  #cwd: string | undefined;
  #commandRunning = false;

  readonly #onCwd: (cwd: string) => void;

  constructor(terminal: Terminal, onCwd: (cwd: string) => void) {
    this.#onCwd = onCwd;
    this.#disposables.push(
      terminal.parser.registerOscHandler(OSC_CURRENT_DIRECTORY, (data) => {
        const cwd = parseFileUrlPath(data);
        this.#commandRunning = false;
        if (cwd !== undefined) this.setCwd(cwd);
        return true;
      }),
      terminal.onData((data) => {
        if (data.includes('\r')) this.#commandRunning = true;
      }),
    );
  }

  /** The working directory of the last prompt, if the shell reported one. */
  get cwd(): string | undefined {
    return this.#cwd;
  }

  /** True between an Enter typed here and the next prompt: closing now would interrupt a program. */
  get commandRunning(): boolean {
    return this.#commandRunning;
  }

  /**
   * Takes the working directory the relay reports on attach: a screen snapshot shows the last prompt but not the
   * OSC 7 that came with it.
   */
  setCwd(cwd: string): void {
    if (cwd === this.#cwd) return;
    this.#cwd = cwd;
    this.#onCwd(cwd);
  }

  /** A new shell or a redrawn screen starts from a prompt-less state. */
  resetCommandState(): void {
    this.#commandRunning = false;
  }

  dispose(): void {
    for (const disposable of this.#disposables.splice(0)) disposable.dispose();
  }
}

/** `file://sandbox/workspace/my%20dir` → `/workspace/my dir`; undefined for anything else. */
export function parseFileUrlPath(data: string): string | undefined {
  if (!data.startsWith('file://')) return undefined;
  const slash = data.indexOf('/', 'file://'.length);
  if (slash < 0) return undefined;
  try {
    return decodeURIComponent(data.slice(slash));
  } catch {
    return data.slice(slash);
  }
}
