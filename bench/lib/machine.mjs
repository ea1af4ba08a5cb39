// What the figures were measured on: they mean little without it.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function osName() {
  try {
    return /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))[1];
  } catch {
    return process.platform;
  }
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function machine() {
  return {
    os: osName(),
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    xterm: require('@xterm/xterm/package.json').version,
    commit: gitCommit(),
  };
}

export const loadAverage = () => loadavg().map((value) => value.toFixed(2)).join(' ');
