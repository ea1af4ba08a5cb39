/// <reference types="vite/client" />

/** The relay the dev server proxies to (vite.config.ts `define`), shown in the copy-paste snippets. */
declare const __RELAY_TARGET__: string;
