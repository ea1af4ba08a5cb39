// In-page half of `npm run bench` (bundled by bench/lib/page-server.mjs; wetty's own page gets it as an init script).
// Every time is taken here with performance.now(), so Playwright's round trips never count. "Seen by xterm" means
// xterm's write callback ran: the bytes are parsed into its buffer.
import type { Terminal } from '@xterm/xterm';

type Data = string | Uint8Array;
type Listener = (data: Data, at: number) => void;
interface Hooked { listeners: Set<Listener> }

const POLL_MS = 5;
const INTERRUPT_RETRY_MS = 2_000;
const INTERRUPT_ATTEMPTS = 10;
const TAIL_CHARS = 512;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(condition: () => T, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`bench page: timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function tail(data: Data): string {
  if (typeof data === 'string') return data.slice(-TAIL_CHARS);
  return String.fromCharCode(...data.subarray(Math.max(0, data.byteLength - TAIL_CHARS)));
}

/** Whether the data's last bytes hold `char`: cheap, so only the writes that may end the marker are decoded. */
function tailHas(data: Data, char: string): boolean {
  if (typeof data === 'string') return data.lastIndexOf(char) >= data.length - TAIL_CHARS;
  const code = char.charCodeAt(0);
  for (let i = data.byteLength - 1; i >= Math.max(0, data.byteLength - TAIL_CHARS); i--) if (data[i] === code) return true;
  return false;
}

/** Wraps `write` so each callback also tells the bench which data xterm has just parsed. */
function hook(term: Terminal): Hooked {
  const existing = (term as unknown as { __bench?: Hooked }).__bench;
  if (existing) return existing;
  const hooked: Hooked = { listeners: new Set() };
  const write = term.write.bind(term);
  term.write = (data: Data, callback?: () => void) =>
    write(data, () => {
      callback?.();
      const at = performance.now();
      for (const listener of hooked.listeners) listener(data, at);
    });
  (term as unknown as { __bench: Hooked }).__bench = hooked;
  return hooked;
}

/** Resolves with the time of the first write callback whose data (with what came before) ends near `marker`. */
function whenWritten(term: Terminal, test: (data: Data) => boolean): Promise<number> {
  const hooked = hook(term);
  return new Promise((resolve) => {
    const listener: Listener = (data, at) => {
      if (!test(data)) return;
      hooked.listeners.delete(listener);
      resolve(at);
    };
    hooked.listeners.add(listener);
  });
}

/** The marker may be split across writes: the end of the previous write is kept. */
function markerSeen(marker: string) {
  let carried = '';
  return (data: Data) => {
    if (!tailHas(data, marker[marker.length - 1]!)) {
      carried = typeof data === 'string' ? data.slice(-marker.length) : String.fromCharCode(...data.subarray(-marker.length));
      return false;
    }
    const text = carried + tail(data);
    carried = text.slice(-marker.length);
    return text.includes(marker);
  };
}

function cursorLine(term: Terminal): string {
  const buffer = term.buffer.active;
  return buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true) ?? '';
}
const atPrompt = (term: Terminal) => /[#$]\s*$/.test(cursorLine(term));

interface SandboxTerminalLike extends HTMLElement {
  relay: string;
  sandbox: string;
  terminal: Terminal | undefined;
  status: { state: string; restoredCwd?: string };
  reconnectPolicy: object | undefined;
}

let current: Terminal | undefined;
let stopFlood: (() => void) | undefined;
let element: SandboxTerminalLike | undefined;
const term = () => {
  if (!current) throw new Error('bench page: no terminal mounted');
  return current;
};

function describe(t: Terminal) {
  const renderer = document.querySelector('.xterm canvas') ? 'canvas/webgl' : 'DOM';
  return { cols: t.cols, rows: t.rows, renderer };
}

/**
 * A bare xterm with the mounted terminal's size, font and theme: the references' terminal. It sits exactly where the
 * mounted one is, on top of it, and the mounted element is hidden meanwhile, so both draw the same visible pixels.
 * (Until stop 27 the box came after the element in the page: 78% of it was below the 600 px viewport, and the
 * compositor drew the references' frames for a fifth of what the element's cost.)
 */
function freshXterm() {
  const like = term();
  const { Terminal: XTerm } = (window as unknown as { XTerm: { Terminal: typeof Terminal } }).XTerm;
  const box = document.createElement('div');
  const rect = like.element?.getBoundingClientRect() ?? { left: 0, top: 0, width: 900, height: 500 };
  box.style.cssText = `position:fixed;left:${rect.left}px;top:${rect.top}px;width:${rect.width}px;height:${rect.height}px;z-index:1`;
  const hidden = element;
  if (hidden) hidden.style.visibility = 'hidden';
  document.body.append(box);
  const { fontSize, fontFamily, lineHeight, scrollback, theme } = like.options;
  const terminal = new XTerm({ fontSize, fontFamily, lineHeight, scrollback, theme, cols: like.cols, rows: like.rows });
  terminal.open(box);
  return {
    terminal,
    dispose() {
      terminal.dispose();
      box.remove();
      if (hidden) hidden.style.visibility = '';
    },
  };
}

/** A binary WebSocket to a reference server (bench/lib/socket-source.mjs), once it is open. */
async function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return socket;
}

/** `count` keys typed one at a time; each: input → the echo parsed by xterm. */
async function typeKeys(t: Terminal, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    const echoed = whenWritten(t, (data) => (typeof data === 'string' ? data.includes(key) : data.includes(key.charCodeAt(0))));
    const start = performance.now();
    t.input(key, true);
    samples.push((await echoed) - start);
    // a macrotask between keys, as between real key events
    await sleep(0);
  }
  return samples;
}

const bench = {
  async mountElement({ relay, sandbox, width, height, reconnectPolicy }: { relay: string; sandbox: string; width: number; height: number; reconnectPolicy?: object }) {
    await customElements.whenDefined('sandbox-terminal');
    const el = document.createElement('sandbox-terminal') as SandboxTerminalLike;
    el.relay = relay;
    el.sandbox = sandbox;
    if (reconnectPolicy) el.reconnectPolicy = reconnectPolicy;
    el.style.cssText = `display:block;width:${width}px;height:${height}px`;
    document.body.append(el);
    element = el;
    current = (await until(() => el.status.state === 'connected' && el.terminal && atPrompt(el.terminal) && el.terminal, 'a prompt')) as Terminal;
    hook(current!);
    return describe(current!);
  },

  async useWetty() {
    const w = window as unknown as { wetty_term?: Terminal };
    current = (await until(() => w.wetty_term && atPrompt(w.wetty_term) && w.wetty_term, "wetty's prompt")) as Terminal;
    hook(current!);
    return describe(current!);
  },

  /** Types `command` + Enter through xterm's input path; ms until `marker` has been written. */
  async run(command: string, marker: string) {
    const t = term();
    const done = whenWritten(t, markerSeen(marker));
    const start = performance.now();
    t.input(`${command}\r`, true);
    return (await done) - start;
  },

  size() {
    return describe(term());
  },

  /**
   * Ctrl-C until the prompt is back. Bash loses a Ctrl-C that arrives between a foreground job's end and bash taking
   * the terminal back (the ticker loops here run `sleep 0.01` a hundred times a second), as a person would press again.
   */
  async interrupt() {
    for (let attempt = 1; ; attempt++) {
      term().input('\x03', true);
      try {
        await until(() => atPrompt(term()), 'the prompt after Ctrl-C', INTERRUPT_RETRY_MS);
        return;
      } catch (error) {
        if (attempt >= INTERRUPT_ATTEMPTS) throw error;
      }
    }
  },

  async waitPrompt() {
    await until(() => atPrompt(term()), 'a prompt');
  },

  /** `count` keys typed one at a time into `cat`; each: input → the echo parsed by xterm. */
  async echo(count: number) {
    const t = term();
    await bench.run('echo CAT-$((20+1))-READY; cat', 'CAT-21-READY');
    // cat has to be running (and the tty back in canonical echo mode) before the first measured key.
    await sleep(200);
    const samples = await typeKeys(t, count);
    t.input('\x03', true);
    await until(() => atPrompt(t), 'the prompt after cat');
    return samples;
  },

  /** The same keys into `cat` on the minimal PTY server of reference (f), echoed into a bare xterm. */
  async socketEcho({ url, count }: { url: string; count: number }) {
    const raw = freshXterm();
    const socket = await openSocket(url);
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') raw.terminal.write(new Uint8Array(event.data as ArrayBuffer));
    };
    const encoder = new TextEncoder();
    raw.terminal.onData((data) => socket.send(encoder.encode(data)));
    socket.send(JSON.stringify({ start: true, command: 'cat', cols: raw.terminal.cols, rows: raw.terminal.rows }));
    await sleep(200);
    const samples = await typeKeys(raw.terminal, count);
    socket.close();
    raw.dispose();
    return samples;
  },

  /**
   * References (e) and (f): the bytes of a WebSocket server (bench/lib/socket-source.mjs) written into a fresh xterm
   * like the mounted one as each message arrives, acknowledged as xterm parses them (every 64 KiB, like the element).
   * `start` tells the server what to send (a workload from memory, or a command to run on a PTY). Timed from the
   * start request to the write callback of the last byte the server said it sent.
   */
  async socketLimit({ url, start }: { url: string; start: Record<string, unknown> }) {
    const raw = freshXterm();
    await new Promise<void>((resolve) => raw.terminal.write('warm up\r\n', resolve));
    const socket = await openSocket(url);
    const begin = performance.now();
    let lastWrittenAt = begin;
    const bytes = await new Promise<number>((resolve) => {
      let received = 0;
      let written = 0;
      let acked = 0;
      let total: number | undefined;
      socket.onmessage = (event) => {
        if (typeof event.data === 'string') {
          total = (JSON.parse(event.data) as { end: number }).end;
          if (written === total) resolve(total);
          return;
        }
        const data = new Uint8Array(event.data as ArrayBuffer);
        received += data.byteLength;
        const end = received;
        raw.terminal.write(data, () => {
          written = end;
          lastWrittenAt = performance.now();
          if (end - acked >= 64 * 1024) {
            acked = end;
            socket.send(JSON.stringify({ ack: acked }));
          }
          if (written === total) resolve(total);
        });
      };
      socket.send(JSON.stringify({ start: true, ...start, cols: raw.terminal.cols, rows: raw.terminal.rows }));
    });
    socket.close();
    raw.dispose();
    return { ms: lastWrittenAt - begin, bytes };
  },

  /** Reference (f)'s flood for the echo workload: `command` on its PTY server, drawn and acknowledged until stopped. */
  async socketFlood({ url, command }: { url: string; command: string }) {
    const raw = freshXterm();
    const socket = await openSocket(url);
    let received = 0;
    let acked = 0;
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') return;
      const data = new Uint8Array(event.data as ArrayBuffer);
      received += data.byteLength;
      const end = received;
      raw.terminal.write(data, () => {
        if (end - acked >= 64 * 1024) {
          acked = end;
          socket.send(JSON.stringify({ ack: acked }));
        }
      });
    };
    socket.send(JSON.stringify({ start: true, command, cols: raw.terminal.cols, rows: raw.terminal.rows }));
    await until(() => received > 1024 * 1024, 'the reference flood');
    stopFlood = () => {
      socket.close();
      raw.dispose();
    };
  },

  stopSocketFlood() {
    stopFlood?.();
    stopFlood = undefined;
  },

  /** A workload's terminal bytes (from the page server), written straight into a fresh xterm: no network, no relay. */
  async xtermLimit({ dataUrl, chunkBytes, maxInFlightBytes }: { dataUrl: string; chunkBytes: number; maxInFlightBytes: number }) {
    const data = new Uint8Array(await (await fetch(dataUrl)).arrayBuffer());
    const { terminal: raw, dispose } = freshXterm();
    // Warm the parser and renderer as the relay's terminal was warmed by its prompt.
    await new Promise<void>((resolve) => raw.write('warm up\r\n', resolve));
    const start = performance.now();
    await new Promise<void>((resolve) => {
      let offset = 0;
      let inFlight = 0;
      const pump = () => {
        while (offset < data.byteLength && inFlight < maxInFlightBytes) {
          const chunk = data.subarray(offset, offset + chunkBytes);
          offset += chunk.byteLength;
          inFlight += chunk.byteLength;
          const last = offset >= data.byteLength;
          raw.write(chunk, () => {
            inFlight -= chunk.byteLength;
            if (last) resolve();
            else pump();
          });
        }
      };
      pump();
    });
    const ms = performance.now() - start;
    dispose();
    return { ms, bytes: data.byteLength };
  },

  /** Armed before the relay drops the socket: wall-clock time of the first output written after the drop. */
  async watchResume() {
    const t = term();
    const el = element!;
    let dropped = false;
    let resumedAt: number | undefined;
    const onStatus = (event: Event) => {
      if ((event as CustomEvent<{ status: { state: string } }>).detail.status.state !== 'connected') dropped = true;
    };
    const onWrite: Listener = () => {
      if (dropped) resumedAt ??= Date.now();
    };
    el.addEventListener('status-change', onStatus);
    hook(t).listeners.add(onWrite);
    try {
      return await until(() => resumedAt, 'output after the reconnection', 30_000);
    } finally {
      el.removeEventListener('status-change', onStatus);
      hook(t).listeners.delete(onWrite);
    }
  },

  async waitState(state: string) {
    await until(() => element!.status.state === state, `state ${state}`);
  },

  /** Enter in a sleeping session: ms until it is connected again with a prompt on the cursor line. */
  async wake() {
    const t = term();
    const el = element!;
    const start = performance.now();
    t.input('\r', true);
    await until(() => el.status.state === 'connected' && el.status.restoredCwd !== undefined && atPrompt(t), 'the restored prompt', 30_000);
    return performance.now() - start;
  },
};

(window as unknown as { bench: typeof bench }).bench = bench;
