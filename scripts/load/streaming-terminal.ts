import { parseServerControl, TERMINAL_SUBPROTOCOL, type ServerControlMessage } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';

/** Acknowledge at least this often (bytes), as a browser tab that keeps up does; the relay's window is 512 KiB. */
const ACK_EVERY_BYTES = 32 * 1024;
/** …or this long after the last unacknowledged byte. */
const ACK_AFTER_MS = 50;
/** The generator's lines: `L<n> <pad>`, the pad made by the shell so that the typed command does not contain it. */
const PAD_LENGTH = 48;
const SEQ_LINE = new RegExp(`^L(\\d+) 0{${PAD_LENGTH}}$`);
/** A line that is part of a generator line but not a whole one: the start of one, or a run of its pad. */
const TORN_LINE = /^L\d|0{8}/;
/** Non-generator lines kept for `waitFor`: a session prints a handful (its prompt, the command, the end marker). */
const OTHER_LINES_KEPT = 1_000;
/** OSC (the shell integration's markers, titles) and CSI sequences, which share lines with the output. */
const ESCAPES = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** While this file exists in a sandbox's /tmp, its generators stop at their next burst. */
export const STOP_FILE = '/tmp/load-stop';

/** The line a generator prints once it has stopped: after it, its stream is complete. */
export function endMarker(index: number): string {
  return `load-end-${index + 1000}`;
}

/**
 * A bash loop that prints numbered lines, `linesPerBurst` at a time with a short sleep between (builtins only, so it
 * costs the sandbox one fork per burst), until `STOP_FILE` appears; then it prints `endMarker(index)`, computed by
 * the shell so that the echoed command line does not contain it. A stop file rather than Ctrl-C: an interrupt that
 * lands between a foreground `sleep` ending and bash taking the terminal back is lost, and the loop would go on.
 */
export function generatorCommand(index: number, linesPerBurst: number, pauseSeconds: number): string {
  const burst = `((i % ${linesPerBurst})) || { [ -e ${STOP_FILE} ] && break; sleep ${pauseSeconds}; }`;
  return `printf -v P %0${PAD_LENGTH}d 0; i=0; while :; do i=$((i+1)); printf 'L%d %s\\n' $i $P; ${burst}; done; echo load-end-$((${index}+1000))\r`;
}

/**
 * One terminal viewer of the load test: acknowledges what it receives like a browser that keeps up, and checks
 * that the numbered lines arrive complete, in order, each once. `screen` or `truncated` after the start would mean
 * the relay gave up on streaming to it: counted as loss.
 */
export class StreamingTerminal {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly errors: string[] = [];
  bytes = 0;
  /** The highest line number seen; every number below it was seen exactly once, or `gaps` says otherwise. */
  lastSeq = 0;
  gaps = 0;
  /** Lines that began like a generator line but were not one (a torn or mixed line). */
  malformed = 0;
  /** Screens and truncations after the first screen: output the relay did not stream. */
  substitutions = 0;
  closeCode: number | undefined;
  #text = '';
  #position = 0;
  #acked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #screens = 0;
  #markers = new Map<string, () => void>();
  #lastMalformed = '';
  #gapExamples: string[] = [];
  /** The last few complete lines, for reports. */
  #recentLines: string[] = [];
  /** Complete lines that were not generator lines (prompts, commands, markers): few, and waited for. */
  #otherLines: string[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url, [TERMINAL_SUBPROTOCOL]);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data: Buffer, isBinary) => (isBinary ? this.#output(data) : this.#control(data.toString())));
    this.ws.on('close', (code) => {
      this.closeCode = code;
      clearTimeout(this.#ackTimer);
    });
    this.ws.on('error', (error) => this.errors.push(`socket: ${error.message}`));
  }

  /** Resolves when `text` has appeared in the output, before this call or after it. */
  waitFor(text: string, timeoutMs: number): Promise<void> {
    if (this.#otherLines.some((line) => line.includes(text))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#markers.delete(text);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${JSON.stringify(text)}; last lines ${JSON.stringify([...this.#recentLines, this.#text].join('\n').slice(-300))}`));
      }, timeoutMs);
      this.#markers.set(text, () => {
        clearTimeout(timer);
        resolve();
      });
      this.#checkMarkers();
    });
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  /** What was wrong with this viewer's stream, if anything. */
  problems(): string[] {
    const problems = [...this.errors];
    if (this.gaps) problems.push(`${this.gaps} gaps in the line sequence (${this.#gapExamples.join(', ')})`);
    if (this.malformed > 0) problems.push(`${this.malformed} malformed lines, e.g. ${JSON.stringify(this.#lastMalformed.slice(0, 80))}`);
    if (this.substitutions) problems.push(`${this.substitutions} screens or truncations instead of streamed output`);
    if (this.closeCode !== undefined && this.closeCode !== 1000 && this.closeCode !== 1005) problems.push(`closed with ${this.closeCode}`);
    return problems;
  }

  close(): void {
    clearTimeout(this.#ackTimer);
    this.ws.close(1000);
  }

  #output(data: Buffer): void {
    this.bytes += data.length;
    this.#position += data.length;
    this.#text += data.toString('latin1');
    let newline = this.#text.indexOf('\n');
    while (newline !== -1) {
      // As a terminal shows it: a carriage return inside a line starts it over.
      const line = this.#text.slice(0, newline).replace(/\r$/, '').replace(ESCAPES, '');
      this.#line(line.slice(line.lastIndexOf('\r') + 1));
      this.#text = this.#text.slice(newline + 1);
      newline = this.#text.indexOf('\n');
    }
    this.#checkMarkers();
    if (this.#position - this.#acked >= ACK_EVERY_BYTES) this.#ack();
    else this.#ackTimer ??= setTimeout(() => this.#ack(), ACK_AFTER_MS);
  }

  #line(line: string): void {
    this.#recentLines.push(line);
    if (this.#recentLines.length > 5) this.#recentLines.shift();
    for (const [text, resolve] of this.#markers) {
      if (line.includes(text)) {
        this.#markers.delete(text);
        resolve();
      }
    }
    const match = SEQ_LINE.exec(line);
    if (match) {
      const seq = Number(match[1]);
      if (seq !== this.lastSeq + 1) {
        this.gaps += 1;
        if (this.#gapExamples.length < 3) this.#gapExamples.push(`${this.lastSeq} → ${seq}`);
      }
      this.lastSeq = seq;
      return;
    }
    if (TORN_LINE.test(line)) {
      this.malformed += 1;
      this.#lastMalformed = line;
    }
    if (this.#otherLines.length < OTHER_LINES_KEPT) this.#otherLines.push(line);
  }

  #checkMarkers(): void {
    for (const [text, resolve] of this.#markers) {
      if (this.#text.includes(text)) {
        this.#markers.delete(text);
        resolve();
      }
    }
  }

  #control(text: string): void {
    const message: ServerControlMessage | null = parseServerControl(text);
    if (!message) {
      this.errors.push(`unparsable control frame ${text.slice(0, 80)}`);
      return;
    }
    // Positions count every byte the session showed; acks must name them, so follow the relay's numbering.
    if (message.type === 'ready' || message.type === 'screen') this.#position = message.position;
    if (message.type === 'screen' && ++this.#screens > 1) this.substitutions += 1;
    if (message.type === 'truncated') this.substitutions += 1;
    if (message.type === 'error') this.errors.push(`relay error ${message.code}: ${message.message}`);
  }

  #ack(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (this.ws.readyState !== WebSocket.OPEN || this.#acked === this.#position) return;
    this.#acked = this.#position;
    this.ws.send(JSON.stringify({ type: 'ack', position: this.#position }));
  }
}
