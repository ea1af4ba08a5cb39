// xterm's packages have no `exports` map: bundlers (Vite, webpack, esbuild) take their ES module build (`module`), but
// Node, and so every generator's server-side render, takes the CommonJS `main`, whose named exports Node's ESM loader
// cannot see ("Named export 'Terminal' not found … is a CommonJS module"). A namespace import works in both worlds:
// the class is a member of the namespace under a bundler and of its `default` (module.exports) under Node. Read through
// Reflect so bundlers do not warn about a `default` the ES build does not have.
import * as xtermModule from '@xterm/xterm';
import * as fitModule from '@xterm/addon-fit';
import * as webLinksModule from '@xterm/addon-web-links';

function member<M extends object, K extends keyof M>(namespace: M, name: K): M[K] {
  const direct = Reflect.get(namespace, name) as M[K] | undefined;
  if (direct !== undefined) return direct;
  const commonJs = Reflect.get(namespace, 'default') as M | undefined;
  return Reflect.get(commonJs ?? {}, name) as M[K];
}

export const Terminal = member(xtermModule, 'Terminal');
export type Terminal = xtermModule.Terminal;
export const FitAddon = member(fitModule, 'FitAddon');
export type FitAddon = fitModule.FitAddon;
export const WebLinksAddon = member(webLinksModule, 'WebLinksAddon');
export type WebLinksAddon = webLinksModule.WebLinksAddon;
