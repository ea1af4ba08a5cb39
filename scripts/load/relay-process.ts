// The relay under load, in a process of its own so its memory and CPU are its own: started by run-load.ts,
// it prints `RELAY_URL <url>` on a line of its own (its logs share stdout) and stops on SIGTERM.
// Arguments: <data dir> [<redis url> <port>] — with Redis, one relay of a group sharing it and the data dir.
import { createRelay } from '@sandbox-terminal/server';

const [dataDir, redisUrl, port] = process.argv.slice(2);
const relay = await createRelay({
  port: port ? Number(port) : 0,
  host: '127.0.0.1',
  logger: 'warn',
  ...(dataDir ? { dataDir } : {}),
  ...(redisUrl ? { redisUrl } : {}),
  // The load is meant to be seen whole: nothing may fall asleep mid-run.
  idleTimeoutMs: 10 * 60_000,
});
process.stdout.write(`RELAY_URL ${relay.url}\n`);
process.once('SIGTERM', () => {
  void relay.close().finally(() => process.exit(0));
});
