import { limitExceeded } from '../errors.ts';
import type { RelayLimits } from '../limits.ts';

/**
 * Refuses an environment given to a session or a command that is over `envEntries` or `envBytes` (names, values and
 * the `=` and NUL of each entry, as the kernel counts them). Without these a request could ask for a process the
 * kernel refuses to start (E2BIG) after the relay spent seconds preparing it.
 */
export function checkEnvLimits(env: Record<string, string> | undefined, limits: Pick<RelayLimits, 'envEntries' | 'envBytes'>): void {
  if (!env) return;
  let entries = 0;
  let bytes = 0;
  for (const name in env) {
    if (++entries > limits.envEntries) throw limitExceeded('envEntries', limits.envEntries, `more than ${limits.envEntries} environment variables`);
    bytes += name.length + Buffer.byteLength(env[name]!) + 2;
    if (bytes > limits.envBytes) throw limitExceeded('envBytes', limits.envBytes, `environment variables of more than ${limits.envBytes} bytes`);
  }
}
