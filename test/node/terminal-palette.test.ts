// The terminal's ANSI palettes against WCAG AA (4.5:1 for text) on the backgrounds they are drawn on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DARK_ANSI, DARK_BACKGROUND, LIGHT_ANSI, LIGHT_BACKGROUND } from '../../packages/elements/src/terminal-theme.ts';

const AA_TEXT_CONTRAST = 4.5;

function luminance(hex: string): number {
  const channels = [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

describe('terminal palettes', () => {
  it('every dark-theme colour but black (a background colour there) reaches 4.5:1 on the dark background', () => {
    const below = Object.entries(DARK_ANSI)
      .filter(([name]) => name !== 'black')
      .filter(([, color]) => contrast(color, DARK_BACKGROUND) < AA_TEXT_CONTRAST)
      .map(([name, color]) => `${name} ${color} ${contrast(color, DARK_BACKGROUND).toFixed(2)}`);
    assert.deepEqual(below, []);
  });

  it('every light-theme colour reaches 4.5:1 on the light background', () => {
    const below = Object.entries(LIGHT_ANSI)
      .filter(([, color]) => contrast(color, LIGHT_BACKGROUND) < AA_TEXT_CONTRAST)
      .map(([name, color]) => `${name} ${color} ${contrast(color, LIGHT_BACKGROUND).toFixed(2)}`);
    assert.deepEqual(below, []);
  });

  it('xterm\'s own defaults would not (the reason for the palettes): blue on the dark background', () => {
    assert.ok(contrast('#2472c8', DARK_BACKGROUND) < AA_TEXT_CONTRAST);
  });
});
