// Importing the package registers <sandbox-terminal> and <session-tabs>; `./classes` exports the same without doing so.
import './define.ts';

export * from './classes.ts';
export { defineElements, inBrowser } from './define.ts';
