import { TERMINAL_SUBPROTOCOL, parseServerControl, type ServerControlMessage } from '@sandbox-terminal/protocol';
import headless from '@xterm/headless';
import serialize from '@xterm/addon-serialize';
import WebSocket from 'ws';
import { waitFor } from './helpers.ts';

/**
 * A v1 terminal client as a browser runs it, minus the pixels: it renders into a headless xterm, acknowledges
 * what it has rendered, and reconnects with its cursor. `received` holds every output byte by position.
 */
export class ResumingClient {
  readonly term = new headless.Terminal({ cols: 80, rows: 24, scrollback: 1000, allowProposedApi: true });
  readonly serializer = new serialize.SerializeAddon();
  /** Output position just after the last byte handed to the terminal: a reconnect resumes from here. */
  cursor: number | undefined;
  /** Output position just after the last byte the terminal has rendered: what acks report. */
  rendered: number | undefined;
  /** Every output byte ever received, screens included (throughput, not content). */
  totalReceived = 0;
  /** Output bytes by position, from the first position this client saw. */
  received: Buffer[] = [];
  firstPosition: number | undefined;
  readonly controls: ServerControlMessage[] = [];
  ws: WebSocket | undefined;
  /** Screens received after the first one (a truncated resume, or a slow viewer brought back). */
  screensAfterStart = 0;
  /** When false the client stops acknowledging (a slow or frozen browser tab). */
  acking = true;
  #pendingWrites = 0;

  constructor(
    private readonly url: string,
    /** False: never acknowledge, like a client that reads as fast as the network allows. */
    private readonly acks = true,
  ) {
    this.term.loadAddon(this.serializer);
  }

  async connect(): Promise<void> {
    const url = new URL(this.url);
    if (this.cursor !== undefined) url.searchParams.set('cursor', String(this.cursor));
    const ws = new WebSocket(url, [TERMINAL_SUBPROTOCOL]);
    this.ws = ws;
    let expected = 0;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        const start = expected;
        expected += data.length;
        this.totalReceived += data.length;
        this.#record(start, data);
        this.cursor = expected;
        this.#pendingWrites++;
        this.term.write(data, () => {
          this.#pendingWrites--;
          this.rendered = start + data.length;
          this.#sendAck(ws);
        });
        return;
      }
      const message = parseServerControl(data.toString());
      if (!message) return;
      this.controls.push(message);
      if (message.type === 'ready') expected = message.position;
      if (message.type === 'screen') {
        expected = message.position;
        // A screen replaces the stream: what follows is recorded from its position on.
        if (this.firstPosition !== undefined) this.screensAfterStart++;
        this.received = [];
        this.firstPosition = message.position;
        this.term.reset();
        this.cursor = message.position;
        this.term.write(message.data, () => {
          this.rendered = Math.max(this.rendered ?? 0, message.position);
          this.#sendAck(ws);
        });
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await waitFor(() => this.controls.some((message) => message.type === 'ready'), 'ready');
  }

  #sendAck(ws: WebSocket): void {
    if (this.acks && this.acking && this.rendered !== undefined && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', position: this.rendered }));
  }

  #record(start: number, data: Buffer): void {
    this.firstPosition ??= start;
    const have = this.firstPosition + this.receivedBytes();
    if (start > have) throw new Error(`gap: got position ${start}, had up to ${have}`);
    if (start < have) throw new Error(`duplicate: got position ${start}, had up to ${have}`);
    this.received.push(Buffer.from(data));
  }

  /** The last few hundred bytes received, as text (cheap to poll during a flood). */
  tail(): string {
    let text = '';
    for (let index = this.received.length - 1; index >= 0 && text.length < 400; index--) text = this.received[index]!.toString('latin1') + text;
    return Buffer.from(text.slice(-400), 'latin1').toString('utf8');
  }

  receivedBytes(): number {
    return this.received.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** Drops the connection as a network failure would (no close handshake). */
  drop(): void {
    this.ws?.terminate();
  }

  type(text: string): void {
    this.ws?.send(Buffer.from(text), { binary: true });
  }

  ack(): void {
    if (this.ws) this.#sendAck(this.ws);
  }

  /** The rendered screen, once every write is parsed. */
  async screen(): Promise<string> {
    await waitFor(() => this.#pendingWrites === 0, 'writes to settle');
    await new Promise<void>((resolve) => this.term.write('', () => resolve()));
    return this.serializer.serialize({ scrollback: 0 });
  }

  text(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  close(): void {
    this.ws?.close();
    this.term.dispose();
  }
}
