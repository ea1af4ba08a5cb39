// The single-file build (`dist/sandbox-terminal.js`): the elements, the docs enhancement, Lit, xterm and its CSS in one
// ES module. `<script type="module" src="sandbox-terminal.js">` registers every tag and enhances the page's marked
// blocks from its `data-sandbox-docs` JSON; the same exports as the packages are there for scripts that import it.
import '@sandbox-terminal/elements';
import './auto.ts';

export * from '@sandbox-terminal/elements/classes';
export { defineElements } from '@sandbox-terminal/elements/define';
export * from './index.ts';
export { getSandbox, GuestAccess, SandboxError } from '@sandbox-terminal/client';
