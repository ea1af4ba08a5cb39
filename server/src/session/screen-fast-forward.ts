/**
 * Where a screen mirror that fell behind may skip output without parsing it, and still end in exactly the state a
 * terminal that parsed every byte would be in.
 *
 * Why this is exact. Take a terminal whose parser is in its ground state (not inside an escape sequence or a string)
 * and whose scroll region is the whole screen, and output `A + T` where both are *plain*: bytes that change no mode,
 * attribute, charset, margin, tab stop or title. Every byte but ESC, SO, SI, DEL and the C1 controls is plain:
 * printable text (UTF-8 included) and the C0 controls xterm.js executes in the ground state, which move the cursor
 * (LF, VT, FF, CR, BS, HT) or change nothing (BEL, NUL and the C0 controls it has no handler for). SO and SI switch
 * the character set, ESC and the C1 controls start sequences, and DEL is a parse error to xterm.js (left to it, as
 * it is rare). So what `A` leaves behind is only the cursor
 * position and the cells (and line flags) it wrote. `A` ends with `\r\n`; `T` holds at least
 * `scrollback + 2 × rows` line feeds. After `A`'s final `\r\n` the cursor is
 * in column 0. A terminal fed `\r\n + T` instead is also in column 0, at most on another row. Within `T`, after at
 * most `rows` line feeds both cursors sit on the bottom row, and every later line feed scrolls the whole screen by
 * one row in both; the remaining `scrollback + rows` line feeds push every row that existed before out of the
 * viewport and then out of the scrollback. From then on both terminals hold the same rows, cursor, attributes and
 * modes, and parse the same bytes. So the cells `A` wrote never reach a snapshot, and `A` need not be parsed.
 *
 * Floods are mostly plain text (`cat`, build logs, `yes`), so a mirror that is behind parses the last few thousand
 * lines of them instead of every byte.
 */

const LF = 0x0a;
const CR = 0x0d;
/** The UTF-8 lead byte of U+0080–U+00BF: followed by 0x80–0x9F it encodes a C1 control (CSI, OSC, DCS …). */
const C1_LEAD = 0xc2;

/** Line feeds the kept tail must hold: every row that existed before the skip is then out of the scrollback. */
export function fastForwardLines(rows: number, scrollback: number): number {
  return scrollback + 2 * rows + 2;
}

/**
 * Bytes that end a plain run: ESC, SO, SI and DEL. Four searches, not one per C0 control: the scan runs over every
 * byte of a flood (31 searches cost the relay ~0.6 ms of CPU per MiB, most of what the mirror spent on a flood).
 */
const NON_PLAIN_BYTES = [0x1b, 0x0e, 0x0f, 0x7f];

/**
 * Where the plain run at the start of `bytes` ends. `first`: nothing before them was looked at; `nextByte`: the byte
 * after them, in the next chunk (undefined when it has not arrived).
 */
function plainRunEnd(bytes: Buffer, first: boolean, nextByte: number | undefined): number {
  // A continuation byte first may complete a C1 control whose lead byte was parsed already.
  if (first && bytes.length && bytes[0]! >= 0x80 && bytes[0]! <= 0x9f) return 0;
  // indexOf is memchr, many times faster than a loop over the bytes in JavaScript.
  let end = bytes.length;
  for (const byte of NON_PLAIN_BYTES) {
    const at = bytes.indexOf(byte);
    if (at >= 0 && at < end) end = at;
  }
  for (let at = bytes.indexOf(C1_LEAD); at >= 0 && at < end; at = bytes.indexOf(C1_LEAD, at + 1)) {
    const next = at + 1 < bytes.length ? bytes[at + 1] : nextByte;
    // the lead byte last: what follows has not arrived, so it may be a C1 control
    if (next === undefined || next <= 0x9f) return at;
  }
  return end;
}

/**
 * How many bytes from the start of `chunks` (output in order, as it arrived) may be skipped (replaced by `\r\n`), or
 * undefined when there is no such point. The caller guarantees the terminal is in its ground state with a
 * full-screen scroll region at the start. The chunks are searched where they lie, never joined: a mirror that is
 * behind holds a megabyte or more of them.
 */
export function fastForwardCut(chunks: Buffer | readonly Buffer[], keepLines: number): number | undefined {
  return fastForwardScan(Buffer.isBuffer(chunks) ? [chunks] : chunks, keepLines).cut;
}

/**
 * `fastForwardCut`, and how long the plain run at the start is (`plainBytes`): when it ends before the last chunk
 * does, no cut is possible until the output that ends it has been parsed.
 */
export function fastForwardScan(list: readonly Buffer[], keepLines: number): { cut: number | undefined; plainBytes: number } {
  // The plain run: whole chunks, then part of the first one that is not plain throughout.
  let last = 0;
  let end = 0;
  for (; last < list.length; last++) {
    end = plainRunEnd(list[last]!, last === 0, list[last + 1]?.[0]);
    if (end < list[last]!.length) break;
  }
  if (last === list.length) end = list[--last]?.length ?? 0;
  let plainBytes = end;
  for (let i = 0; i < last; i++) plainBytes += list[i]!.length;
  const none = { cut: undefined, plainBytes };
  // The line feed with `keepLines` line feeds after it in the plain run, then back to one that ends a `\r\n`.
  let index = last;
  let lineFeed = end;
  const previousLineFeed = (): boolean => {
    for (;;) {
      const at = lineFeed > 0 ? list[index]!.lastIndexOf(LF, lineFeed - 1) : -1;
      if (at >= 0) {
        lineFeed = at;
        return true;
      }
      if (--index < 0) return false;
      lineFeed = list[index]!.length;
    }
  };
  const byteBefore = (): number | undefined => {
    if (lineFeed > 0) return list[index]![lineFeed - 1];
    for (let i = index - 1; i >= 0; i--) if (list[i]!.length) return list[i]![list[i]!.length - 1];
    return undefined;
  };
  for (let kept = 0; kept <= keepLines; kept++) if (!previousLineFeed()) return none;
  while (byteBefore() !== CR) if (!previousLineFeed()) return none;
  let cut = lineFeed + 1;
  for (let i = 0; i < index; i++) cut += list[i]!.length;
  return { cut, plainBytes };
}
