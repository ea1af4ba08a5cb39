import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MarkerScanner, type ScanSegment } from '../../server/src/session/marker-scanner.ts';
import { jobScript, parseExportP, shellQuote } from '../../server/src/session/bash-contract.ts';

function scanInChunks(input: Buffer, sizes: number[]): { data: string; markers: string[] } {
  const scanner = new MarkerScanner('\x1b]6973;', '\x07');
  const segments: ScanSegment[] = [];
  let offset = 0;
  let index = 0;
  while (offset < input.length) {
    const size = sizes[index++ % sizes.length]!;
    segments.push(...scanner.push(input.subarray(offset, offset + size)));
    offset += size;
  }
  const data = Buffer.concat([...segments.flatMap((segment) => (segment.kind === 'data' ? [segment.data] : [])), scanner.flush()]).toString('latin1');
  return { data, markers: segments.flatMap((segment) => (segment.kind === 'marker' ? [segment.payload] : [])) };
}

describe('marker scanner', () => {
  const stream = Buffer.from('plain \x1b]0;title\x07 text\x1b]6973;P\x07more\x1b]6973;B;abc\x07\x1b[31mred\x1b', 'latin1');

  it('finds markers and keeps every other byte, whatever the chunk boundaries', () => {
    for (const sizes of [[stream.length], [1], [2, 3], [5, 1, 7], [11]]) {
      const { data, markers } = scanInChunks(stream, sizes);
      assert.deepEqual(markers, ['P', 'B;abc'], `chunks of ${sizes}`);
      assert.equal(data, 'plain \x1b]0;title\x07 textmore\x1b[31mred\x1b', `chunks of ${sizes}`);
    }
  });

  it('treats an over-long would-be marker as data', () => {
    const long = Buffer.from(`a\x1b]6973;${'x'.repeat(500)}\x07b`, 'latin1');
    const { data, markers } = scanInChunks(long, [64]);
    assert.deepEqual(markers, []);
    assert.equal(data, long.toString('latin1'));
  });

  it('does not hold back the tail of a marker it has just consumed', () => {
    const scanner = new MarkerScanner('\0\0ST-END:', '\0\0');
    const segments = scanner.push(Buffer.from('out\0\0ST-END:ab:0\0\0', 'latin1'));
    assert.deepEqual(segments.map((segment) => segment.kind), ['data', 'marker']);
    assert.equal(scanner.holding, false);
  });
});

describe('shell state parsing', () => {
  it('reads back exactly what bash exported, including quotes, newlines and UTF-8', () => {
    const values: Record<string, string> = { QUOTES: `a "b" 'c' $d \`e\` \\f`, LINES2: 'one\ntwo\tthree', EMOJI: 'héllo 😀 世界', EMPTY: '' };
    const script = Object.entries(values).map(([name, value]) => `export ${name}=${shellQuote(value)}`).join('; ');
    const output = execFileSync('bash', ['--norc', '-c', `${script}; export -p`], { env: { PATH: process.env.PATH!, LANG: 'C.UTF-8' } });
    const parsed = parseExportP(output);
    for (const [name, value] of Object.entries(values)) assert.equal(parsed[name], value, name);
    assert.equal(parsed.PWD, undefined, 'bash-managed variables are not saved');
  });

  it('a job script runs the command exactly, with per-call env quoted safely', () => {
    const script = jobScript({ id: 'abc', command: `printf '%s' "$X"`, env: { X: `it's "$(not run)"` }, hasStdin: false });
    assert.match(script, /export X='it'\\''s "\$\(not run\)"'/);
    assert.match(script, /builtin eval 'printf '\\''%s'\\'' "\$X"'/);
  });
});
