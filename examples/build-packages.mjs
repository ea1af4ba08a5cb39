// Each example's `npm run build` starts here: the examples use the packages as a user gets them (their dist/ and the
// single-file build), so the packages are compiled first. tsc -b is incremental: when nothing changed this is quick.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
