import type { IDisposable, Terminal } from '@xterm/xterm';

/** OSC 7: the shell reports its working directory as a `file://host/path` URL at every prompt. */
const OSC_CURRENT_DIRECTORY = 7;
/** The command line read back from the screen is cut to this many characters (a tab label, not a transcript). */
export const COMMAND_TEXT_CHARS = 200;

export interface ShellPromptEvents {
  /** The shell reported a new working directory. */
  onCwd?: (cwd: string) => void;
  /** A command typed here started (its command line), or a prompt came back (undefined). */
  onCommand?: (command: string | undefined) => void;
}

/**
 * Follows the shell's prompts in what it prints: its working directory (OSC 7 at each prompt) and, from that,
 * whether a command typed here is running (Enter was typed at a prompt and no prompt has come back yet) and which
 * one (the line from the prompt's end, read back from the screen when Enter is pressed).
 */
export class ShellPromptTracker implements IDisposable {
  readonly #terminal: Terminal;
  readonly #events: ShellPromptEvents;
  readonly #disposables: IDisposable[] = [];
  #cwd: string | undefined;
  #command: string | undefined;
  #commandRunning = false;
  /** Where the prompt ended (absolute buffer row): recorded at the first key typed after a prompt. */
  #promptEnd: { x: number; y: number } | undefined;
  #awaitingFirstKey = false;

  constructor(terminal: Terminal, events: ShellPromptEvents = {}) {
    this.#terminal = terminal;
    this.#events = events;
    this.#disposables.push(
      terminal.parser.registerOscHandler(OSC_CURRENT_DIRECTORY, (data) => {
        const cwd = parseFileUrlPath(data);
        this.#promptReturned();
        if (cwd !== undefined) this.setCwd(cwd);
        return true;
      }),
      terminal.onData((data) => this.#typed(data)),
    );
  }

  /** The working directory of the last prompt, if the shell reported one. */
  get cwd(): string | undefined {
    return this.#cwd;
  }

  /** True between an Enter typed here at a prompt and the next prompt: closing now would interrupt a program. */
  get commandRunning(): boolean {
    return this.#commandRunning;
  }

  /** The command line of the running command typed here, when it could be read back from the screen. */
  get command(): string | undefined {
    return this.#command;
  }

  /**
   * Takes the working directory the relay reports on attach: a screen snapshot shows the last prompt but not the
   * OSC 7 that came with it.
   */
  setCwd(cwd: string): void {
    if (cwd === this.#cwd) return;
    this.#cwd = cwd;
    this.#events.onCwd?.(cwd);
  }

  /** A new shell or a redrawn screen starts from a prompt-less state. */
  resetCommandState(): void {
    this.#commandRunning = false;
    this.#promptEnd = undefined;
    this.#awaitingFirstKey = false;
    this.#setCommand(undefined);
  }

  dispose(): void {
    for (const disposable of this.#disposables.splice(0)) disposable.dispose();
  }

  #promptReturned(): void {
    this.#commandRunning = false;
    this.#promptEnd = undefined;
    this.#awaitingFirstKey = true;
    this.#setCommand(undefined);
  }

  #typed(data: string): void {
    if (this.#commandRunning) return;
    const buffer = this.#terminal.buffer.active;
    if (this.#awaitingFirstKey) {
      this.#awaitingFirstKey = false;
      this.#promptEnd = { x: buffer.cursorX, y: buffer.baseY + buffer.cursorY };
    }
    if (!data.includes('\r')) return;
    this.#commandRunning = true;
    this.#setCommand(this.#commandLine());
  }

  /** The text from the prompt's end to the end of its (wrapped) line, as the screen shows it now. */
  #commandLine(): string | undefined {
    const start = this.#promptEnd;
    const buffer = this.#terminal.buffer.active;
    if (!start || buffer.type !== 'normal') return undefined;
    let text = buffer.getLine(start.y)?.translateToString(true, start.x) ?? '';
    for (let y = start.y + 1; buffer.getLine(y)?.isWrapped && text.length < COMMAND_TEXT_CHARS; y++) {
      text += buffer.getLine(y)!.translateToString(true);
    }
    const command = text.trim().slice(0, COMMAND_TEXT_CHARS);
    return command || undefined;
  }

  #setCommand(command: string | undefined): void {
    if (command === this.#command) return;
    this.#command = command;
    this.#events.onCommand?.(command);
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
