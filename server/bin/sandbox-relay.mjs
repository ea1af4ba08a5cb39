#!/usr/bin/env node
// The relay is TypeScript run as it is (no build step): tsx lets Node load the .ts sources.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
