// What `@sandbox-terminal/docs/sandbox-terminal.js` resolves to under Node (package.json's `node` condition): the
// single-file build is browser code (Lit's browser build extends HTMLElement), so a server-side render that imports
// it gets the same exports from the packages instead, which register nothing outside a browser.
export * from '@sandbox-terminal/elements/classes';
export { defineElements } from '@sandbox-terminal/elements/define';
export * from './index.ts';
export { getSandbox, GuestAccess, SandboxError } from '@sandbox-terminal/client';
