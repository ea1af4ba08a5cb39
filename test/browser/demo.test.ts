/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { executeServerCommand } from '@web/test-runner-commands';

interface DemoLayout {
  viewport: number;
  scrollWidth: number;
  overflowing: string[];
  activeTabLabelWidth: number;
  link?: { color: string; background: string };
}

/** The demo loaded by the test server (Vite, against the test relay) in a page of the given width. */
function demoAt(width: number, theme: 'dark' | 'light'): Promise<DemoLayout> {
  return executeServerCommand<DemoLayout, { width: number; theme: string }>('demo-layout', { width, theme });
}

/** WCAG 2 contrast of two `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r, g, bl] = (color.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number).map((value) => {
      const channel = value / 255;
      return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

describe('the demo page', function () {
  // The first call starts Vite and loads the demo with both its terminals connected.
  this.timeout(90_000);

  for (const theme of ['dark', 'light'] as const) {
    it(`at 390 px (a phone) in the ${theme} theme, nothing is wider than the screen and the active tab is readable`, async () => {
      const layout = await demoAt(390, theme);
      expect(layout.scrollWidth, `wider than the viewport: ${layout.overflowing.join(', ')}`).to.be.at.most(layout.viewport);
      expect(layout.activeTabLabelWidth, 'the active tab label is not cut to a letter').to.be.at.least(40);
      expect(contrast(layout.link!.color, layout.link!.background), 'nav link contrast').to.be.at.least(4.5);
    });
  }
});
