// The two output workloads of issue 21, shared by the bench's orchestrator, the page server and the reference servers:
// the command a shell runs, how many bytes it prints, and the same output as a terminal receives it (the PTY turns
// each `\n` into `\r\n`), for the references that send it from memory.

/** 79 characters + newline: 80-byte lines, no wrapping at the bench's width. */
export const LINE = 'sandbox-terminal bench: the quick brown fox jumps over the lazy dog 0123456789.';
/** What every workload command prints last, computed by the shell so the echo of the typed command does not contain it. */
export const MARKER = 'BENCH-42-DONE';
const MARKER_COMMAND = 'echo BENCH-$((40+2))-DONE';

const LONG_BYTES = 50 * 1024 * 1024;
const SEQ_LAST = 3_000_000;

/** `line` + CRLF repeated to at least `totalBytes`: the text the shell's `yes` produces on the terminal. */
export function repeatedLines(line, totalBytes) {
  const lineBytes = Buffer.from(`${line}\r\n`);
  const data = Buffer.alloc(Math.ceil(totalBytes / (lineBytes.length - 1)) * lineBytes.length);
  lineBytes.copy(data);
  for (let filled = lineBytes.length; filled < data.length; filled *= 2) data.copyWithin(filled, 0, filled);
  return data;
}

/** `seq 1 last` as a terminal shows it. */
function seqLines(last) {
  const parts = [];
  for (let n = 1; n <= last; n += 100_000) {
    let text = '';
    for (let i = n; i < Math.min(n + 100_000, last + 1); i++) text += `${i}\r\n`;
    parts.push(Buffer.from(text, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Bytes `seq 1 last` prints (digits and a newline per number). */
function seqBytes(last) {
  let bytes = 0;
  for (let digits = 1, from = 1; from <= last; digits++, from *= 10) bytes += (Math.min(last, from * 10 - 1) - from + 1) * (digits + 1);
  return bytes;
}

export const THROUGHPUT_WORKLOADS = {
  long: {
    title: '50 MiB of long lines (`yes` of 80-byte lines)',
    command: `yes '${LINE}' | head -c ${LONG_BYTES}; ${MARKER_COMMAND}`,
    warmUpCommand: `yes '${LINE}' | head -c ${LONG_BYTES / 10}; ${MARKER_COMMAND}`,
    /** What the command prints (the rate's numerator for every terminal). */
    outputBytes: LONG_BYTES,
    lines: LONG_BYTES / (LINE.length + 1),
    /** What a terminal receives: the output with a CR before each LF. */
    terminalBytes: () => repeatedLines(LINE, LONG_BYTES),
  },
  short: {
    title: '`seq 1 3000000` (26 MB of short lines)',
    command: `seq 1 ${SEQ_LAST}; ${MARKER_COMMAND}`,
    warmUpCommand: `seq 1 ${SEQ_LAST / 10}; ${MARKER_COMMAND}`,
    outputBytes: seqBytes(SEQ_LAST),
    lines: SEQ_LAST,
    terminalBytes: () => seqLines(SEQ_LAST),
  },
};
