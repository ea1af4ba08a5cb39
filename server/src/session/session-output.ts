import { TERMINAL_CLOSE_CODES, type ReadyMessage, type ServerControlMessage } from '@sandbox-terminal/protocol';
import type { RelayLimits } from '../limits.ts';
import { OutputLog } from './output-log.ts';
import { MIRROR_LAG_BYTES, ScreenMirror, type ScreenSnapshot } from './screen-mirror.ts';
import type { OutputPacer } from './typing-priority.ts';

/** A terminal attached to a session (a WebSocket viewer). */
export interface SessionViewer {
  /** `v1` speaks our protocol (screen messages, acks); `compat` is a Cloudflare-style client that knows only bytes. */
  readonly protocol: 'v1' | 'compat';
  /** `data` is valid during the call only (it may be a view of the PTY's shared read buffer): keep a copy. */
  sendOutput(data: Buffer): void;
  sendControl(message: ServerControlMessage): void;
  /** Bytes queued in the socket and not yet sent: the backlog of a viewer that does not acknowledge. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

interface ViewerState {
  viewer: SessionViewer;
  /** Position just after the last byte sent. */
  sent: number;
  /** Position the viewer has acknowledged as rendered; undefined until its first ack. */
  acked: number | undefined;
  /** Stopped receiving live output for being too slow; gets the screen once it has drained. */
  lagging: boolean;
  slowSince: number | undefined;
  laggingSince: number | undefined;
}

/** A viewer that dropped abnormally: its position holds the PTY back a little longer, so a quick reconnect loses nothing. */
interface Ghost {
  acked: number;
  expiresAt: number;
}

/** How often backlogs are re-checked while the PTY is paused or a viewer is lagging. */
const FLOW_CHECK_INTERVAL_MS = 100;

/**
 * Everything a session shows, and the viewers watching it: the positioned output log, the headless screen mirror,
 * resume by cursor, and flow control (pause the PTY when the slowest active viewer is too far behind).
 */
export class SessionOutput {
  readonly log: OutputLog;
  readonly mirror: ScreenMirror;
  readonly #viewers = new Map<SessionViewer, ViewerState>();
  #ghosts: Ghost[] = [];
  /** Flow control holds the PTY (a viewer or the mirror is too far behind). */
  #flowPaused = false;
  /** Typing elsewhere holds the PTY until this timer fires (see typing-priority.ts). */
  #pacing: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  readonly #toMirror = (view: Buffer) => this.mirror.write(view);

  constructor(
    private readonly limits: RelayLimits,
    cols: number,
    rows: number,
    private readonly flow: { pause(): void; resume(): void },
    saved?: ScreenSnapshot,
    private readonly pacer?: OutputPacer,
  ) {
    this.log = new OutputLog(limits.outputLogBytes, saved?.position ?? 0, () => this.mirror.snapshotPosition);
    this.mirror = new ScreenMirror(cols, rows, {
      position: saved?.position ?? 0,
      // The log must still hold every byte the mirror has not parsed: see #checkFlow.
      lagBytes: Math.min(MIRROR_LAG_BYTES, Math.floor(limits.outputLogBytes / 4)),
      onCaughtUp: () => {
        if (this.#flowPaused) this.#checkFlow();
      },
    });
    if (saved) this.mirror.load(saved);
  }

  /** Whether flow control or pacing has the PTY paused (a new shell starts paused then too). */
  get paused(): boolean {
    return this.#flowPaused || this.#pacing !== undefined;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  viewers(): SessionViewer[] {
    return [...this.#viewers.keys()];
  }

  /** Output for the log, the mirror and every viewer; `data` is valid during the call only (each keeps a copy). */
  emit(data: Buffer): void {
    if (!data.length) return;
    // The mirror queues the log's copy, not the PTY's read buffer (see OutputLog.append).
    this.log.append(data, this.#toMirror);
    for (const state of this.#viewers.values()) {
      if (state.lagging) continue;
      // The hard bound on what one viewer can make the relay hold, whichever stream the bytes came from: past it the
      // viewer gets no more live output until it has drained (then the screen), or is closed when it never does.
      if (this.#backlog(state) + data.length > this.limits.viewerBacklogBytes) {
        this.#moveAside(state, Date.now());
        continue;
      }
      state.viewer.sendOutput(data);
      state.sent = this.log.end;
    }
    const waitMs = this.pacer?.spend(data.length) ?? 0;
    if (waitMs > 0 && !this.#pacing) {
      const wasPaused = this.paused;
      this.#pacing = setTimeout(() => {
        this.#pacing = undefined;
        if (!this.paused) this.flow.resume();
      }, waitMs);
      if (!wasPaused) this.flow.pause();
    }
    this.#checkFlow();
  }

  /**
   * Attaches a viewer. With a cursor still in the log it gets exactly the bytes after it; otherwise (no cursor,
   * or one that left the log) the current screen and the output after it.
   */
  attach(viewer: SessionViewer, cursor: number | undefined, ready: (position: number, resumed: boolean) => ReadyMessage): void {
    const state: ViewerState = { viewer, sent: 0, acked: undefined, lagging: false, slowSince: undefined, laggingSince: undefined };
    const backlog = cursor === undefined || viewer.protocol === 'compat' ? undefined : this.log.readFrom(cursor);
    if (cursor !== undefined && backlog !== undefined) {
      this.#ghosts.shift(); // this is most likely the viewer that dropped: its ghost is no longer needed
      viewer.sendControl(ready(cursor, true));
      if (backlog.length) viewer.sendOutput(backlog);
      state.sent = this.log.end;
      state.acked = cursor;
    } else {
      const snapshot = this.mirror.snapshot();
      viewer.sendControl(ready(snapshot.position, false));
      if (cursor !== undefined && viewer.protocol === 'v1') viewer.sendControl({ type: 'truncated', requested: cursor, position: snapshot.position });
      this.#sendScreen(state, snapshot);
    }
    this.#viewers.set(viewer, state);
  }

  detach(viewer: SessionViewer, abnormal: boolean): void {
    const state = this.#viewers.get(viewer);
    if (!state) return;
    this.#viewers.delete(viewer);
    if (abnormal && state.acked !== undefined && !state.lagging) {
      this.#ghosts.push({ acked: state.acked, expiresAt: Date.now() + this.limits.reconnectGraceMs });
    }
    this.#checkFlow();
  }

  ack(viewer: SessionViewer, position: number): void {
    const state = this.#viewers.get(viewer);
    if (!state) return;
    // Never beyond what was sent: a client cannot claim bytes it was not given. Never backwards: an ack that was in
    // flight while the relay moved the viewer on (a screen restore) is stale, and would make it look far behind.
    state.acked = Math.max(state.acked ?? 0, Math.min(position, state.sent));
    this.#checkFlow();
  }

  resize(cols: number, rows: number): void {
    this.mirror.resize(cols, rows);
  }

  /** Sends `ready` and the screen again to every viewer (after a restart or a wake). */
  resendScreen(ready: (position: number, resumed: boolean) => ReadyMessage): void {
    const snapshot = this.mirror.snapshot();
    for (const state of this.#viewers.values()) {
      state.viewer.sendControl(ready(snapshot.position, false));
      this.#sendScreen(state, snapshot);
    }
  }

  closeAll(code: number, reason: string): void {
    for (const viewer of this.#viewers.keys()) viewer.close(code, reason);
    this.#viewers.clear();
    this.#ghosts = [];
    this.#checkFlow();
  }

  dispose(): void {
    clearTimeout(this.#checkTimer);
    clearTimeout(this.#pacing);
    this.#pacing = undefined;
    this.mirror.dispose();
  }

  /** The screen, then every byte after it, and the viewer is live again. */
  #sendScreen(state: ViewerState, snapshot: ScreenSnapshot): void {
    const after = this.log.readFrom(snapshot.position) ?? Buffer.alloc(0);
    if (state.viewer.protocol === 'v1') {
      state.viewer.sendControl({ type: 'screen', data: snapshot.data, position: snapshot.position });
    } else {
      // A byte-only client gets a full reset followed by the screen as output.
      state.viewer.sendOutput(Buffer.from(`\x1bc${snapshot.data}`));
    }
    if (after.length) state.viewer.sendOutput(after);
    state.sent = this.log.end;
    if (state.acked !== undefined) state.acked = snapshot.position;
    state.lagging = false;
    state.slowSince = undefined;
    state.laggingSince = undefined;
  }

  #closeStalled(state: ViewerState): void {
    this.#viewers.delete(state.viewer);
    state.viewer.close(TERMINAL_CLOSE_CODES.TOO_SLOW, 'viewer did not read its output');
  }

  /** How far behind a viewer is: unacknowledged bytes, or the socket's backlog for viewers that do not ack. */
  #backlog(state: ViewerState): number {
    return state.acked !== undefined ? state.sent - state.acked : state.viewer.bufferedAmount;
  }

  #moveAside(state: ViewerState, now: number): void {
    state.lagging = true;
    state.laggingSince = now;
  }

  #checkFlow(): void {
    const now = Date.now();
    if (this.#ghosts.length) this.#ghosts = this.#ghosts.filter((ghost) => ghost.expiresAt > now);
    // A viewer is behind above the high watermark while the PTY runs, and at or above the low one while it is paused:
    // a viewer that stopped reading can sit between the two for good (part of its backlog in kernel buffers), and
    // would otherwise keep the PTY paused without ever counting as slow, so that no grace or close time ran out.
    const behindAt = this.#flowPaused ? this.limits.flowLowWatermarkBytes : this.limits.flowHighWatermarkBytes + 1;
    let worst = 0;
    // A slow viewer is only moved aside when it holds back someone keeping up; alone, it sets the pace (and stays
    // byte-exact), unless it stops reading altogether.
    let keepingUp = 0;
    for (const state of this.#viewers.values()) if (!state.lagging && this.#backlog(state) < behindAt) keepingUp++;
    for (const state of this.#viewers.values()) {
      const backlog = this.#backlog(state);
      if (state.lagging) {
        if (backlog === 0) this.#sendScreen(state, this.mirror.snapshot());
        else if (now - state.laggingSince! > this.limits.stalledViewerCloseMs) this.#closeStalled(state);
        continue;
      }
      if (backlog >= behindAt) {
        state.slowSince ??= now;
        if (now - state.slowSince > this.limits.stalledViewerCloseMs) {
          this.#closeStalled(state);
          continue;
        }
        if (keepingUp > 0 && now - state.slowSince > this.limits.slowViewerGraceMs) {
          // Too slow for too long: stop holding everyone back; it gets the screen once it has caught up.
          this.#moveAside(state, now);
          continue;
        }
      } else {
        state.slowSince = undefined;
      }
      worst = Math.max(worst, backlog);
    }
    for (const ghost of this.#ghosts) worst = Math.max(worst, this.log.end - ghost.acked);
    // The mirror lags by design (it parses in runs), but never so far that the log has dropped what it has not parsed.
    const mirrorBehind = this.mirror.backlog > this.limits.outputLogBytes / 2;
    const mirrorCaughtUp = this.mirror.backlog <= this.mirror.lagBytes;
    if (!this.#flowPaused && (worst > this.limits.flowHighWatermarkBytes || mirrorBehind)) {
      if (!this.paused) this.flow.pause();
      this.#flowPaused = true;
    } else if (this.#flowPaused && worst < this.limits.flowLowWatermarkBytes && mirrorCaughtUp) {
      this.#flowPaused = false;
      if (!this.paused) this.flow.resume();
    }
    let needsRecheck = this.#flowPaused || this.#ghosts.length > 0;
    for (const state of this.#viewers.values()) needsRecheck ||= state.lagging || state.slowSince !== undefined;
    if (needsRecheck && !this.#checkTimer) {
      this.#checkTimer = setTimeout(() => {
        this.#checkTimer = undefined;
        this.#checkFlow();
      }, FLOW_CHECK_INTERVAL_MS);
    } else if (!needsRecheck && this.#checkTimer) {
      clearTimeout(this.#checkTimer);
      this.#checkTimer = undefined;
    }
  }
}
