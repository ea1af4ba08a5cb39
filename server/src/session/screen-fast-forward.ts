/**
 * Where a screen mirror that fell behind may skip output without parsing it, and still end in exactly the state a
 * terminal that parsed every byte would be in.
 *
 * Why this is exact. Take a terminal whose parser is in its ground state (not inside an escape sequence or a string)
 * and whose scroll region is the whole screen, and output `A + T` where both are *plain*: printable text (UTF-8
 * included), tabs, carriage returns and line feeds, nothing else. `A` ends with `\r\n`; `T` holds at least
 * `scrollback + 2 × rows` line feeds. Plain text changes no mode, attribute, charset, margin, tab stop or title, so
 * what `A` leaves behind is only the cursor position and the cells it wrote. After `A`'s final `\r\n` the cursor is
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
const TAB = 0x09;
/** The UTF-8 lead byte of U+0080–U+00BF: followed by 0x80–0x9F it encodes a C1 control (CSI, OSC, DCS …). */
const C1_LEAD = 0xc2;

/** Line feeds the kept tail must hold: every row that existed before the skip is then out of the scrollback. */
export function fastForwardLines(rows: number, scrollback: number): number {
  return scrollback + 2 * rows + 2;
}

/** Bytes that end a plain run: C0 controls other than tab, LF and CR (ESC among them), and DEL. */
const NON_PLAIN_BYTES = [0x1b, ...Array.from({ length: 0x20 }, (_, byte) => byte).filter((byte) => byte !== 0x1b && byte !== TAB && byte !== LF && byte !== CR), 0x7f];

/** Where the plain run at the start of `bytes` ends. */
function plainRunEnd(bytes: Buffer): number {
  // A continuation byte first may complete a C1 control whose lead byte was parsed already.
  if (bytes.length && bytes[0]! >= 0x80 && bytes[0]! <= 0x9f) return 0;
  // indexOf is memchr: ~30 searches are still ~5x faster than a loop over the bytes in JavaScript.
  let end = bytes.length;
  for (const byte of NON_PLAIN_BYTES) {
    const at = bytes.subarray(0, end).indexOf(byte);
    if (at >= 0) end = at;
  }
  for (let at = bytes.indexOf(C1_LEAD); at >= 0 && at < end; at = bytes.indexOf(C1_LEAD, at + 1)) {
    const next = bytes[at + 1];
    // the lead byte last: what follows has not arrived, so it may be a C1 control
    if (next === undefined || next <= 0x9f) return at;
  }
  return end;
}

/**
 * The offset into `bytes` up to which they may be skipped (replaced by `\r\n`), or undefined when there is no such
 * point. The caller guarantees the terminal is in its ground state with a full-screen scroll region at the start
 * of `bytes`.
 */
export function fastForwardCut(bytes: Buffer, keepLines: number): number | undefined {
  const end = plainRunEnd(bytes);
  // The line feed with `keepLines` line feeds after it in the plain run, then back to one that ends a `\r\n`.
  let lineFeed = end;
  for (let kept = 0; kept <= keepLines; kept++) {
    if (lineFeed <= 0) return undefined;
    lineFeed = bytes.lastIndexOf(LF, lineFeed - 1);
    if (lineFeed < 0) return undefined;
  }
  while (bytes[lineFeed - 1] !== CR) {
    if (lineFeed <= 0) return undefined;
    lineFeed = bytes.lastIndexOf(LF, lineFeed - 1);
    if (lineFeed < 0) return undefined;
  }
  return lineFeed + 1;
}
