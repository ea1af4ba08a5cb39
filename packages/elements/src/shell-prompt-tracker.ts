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
  /** Where the prompt starts (absolute buffer row): the shell reports its cwd just before it draws the prompt. */
  #promptStart: { x: number; y: number } | undefined;
  /** Where the prompt ended: the cursor after each write parsed before the first key typed at it. */
  #promptEnd: { x: number; y: number } | undefined;
  #awaitingFirstKey = false;
  /**
   * Enter was typed with the cursor on this row: the command line is read once the shell's echo has moved past it
   * (echo lags behind typing, and at Enter the screen may show only part of what was typed).
   */
  #readAfterRow: number | undefined;

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
      terminal.onWriteParsed(() => {
        if (this.#awaitingFirstKey) this.#promptEnd = this.#cursor();
        if (this.#readAfterRow !== undefined && this.#cursor().y > this.#readAfterRow) {
          this.#readAfterRow = undefined;
          this.#setCommand(this.#commandLine());
        }
      }),
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
    this.#promptStart = undefined;
    this.#promptEnd = undefined;
    this.#readAfterRow = undefined;
    this.#awaitingFirstKey = false;
    this.#setCommand(undefined);
  }

  dispose(): void {
    for (const disposable of this.#disposables.splice(0)) disposable.dispose();
  }

  #promptReturned(): void {
    this.#commandRunning = false;
    // Parsing the OSC 7 itself: the cursor stands where the prompt is about to be drawn.
    this.#promptStart = this.#cursor();
    this.#promptEnd = undefined;
    this.#readAfterRow = undefined;
    this.#awaitingFirstKey = true;
    this.#setCommand(undefined);
  }

  #typed(data: string): void {
    if (this.#commandRunning) return;
    this.#awaitingFirstKey = false;
    if (!data.includes('\r')) return;
    this.#commandRunning = true;
    this.#readAfterRow = this.#cursor().y;
  }

  /**
   * The command line, as the screen shows it now (its normal buffer: a full-screen program may have switched to the
   * alternate one already): from the prompt's end to the end of its (wrapped) line. When a key
   * came before the prompt was drawn (the shell prints its cwd report and its prompt in separate writes), the prompt's
   * end is not known: then the prompt is taken to end at its first `$ `, `# `, `% ` or `> `.
   */
  #commandLine(): string | undefined {
    const start = this.#promptStart;
    const end = this.#promptEnd;
    const buffer = this.#terminal.buffer.normal;
    if (!start) return undefined;
    const drawn = end !== undefined && (end.y > start.y || end.x > start.x);
    const from = drawn ? end : start;
    let text = buffer.getLine(from.y)?.translateToString(true, from.x) ?? '';
    for (let y = from.y + 1; buffer.getLine(y)?.isWrapped && text.length < COMMAND_TEXT_CHARS; y++) {
      text += buffer.getLine(y)!.translateToString(true);
    }
    if (!drawn) text = text.replace(/^.*?[$#%>] /, '');
    const command = text.trim().slice(0, COMMAND_TEXT_CHARS);
    return command || undefined;
  }

  #cursor(): { x: number; y: number } {
    const buffer = this.#terminal.buffer.normal;
    return { x: buffer.cursorX, y: buffer.baseY + buffer.cursorY };
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
