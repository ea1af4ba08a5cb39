// A relay in its own process, so the bench can read its RSS and CPU-profile it apart from the orchestrator, and so
// its event loop is not shared with Playwright. Controlled over the fork IPC channel: drop-connections, sleep-sandbox.
// Started by bench/lib/relay-process.mjs; options come as JSON in argv[2].
import { createRelay } from '@sandbox-terminal/server';
import { takeKeyLatencies } from './key-latency.ts';

const options = JSON.parse(process.argv[2] ?? '{}');
const relay = await createRelay({ port: 0, host: '127.0.0.1', logger: 'warn', ...options });

process.on('message', async (message: { id: number; command: string; sandbox?: string }) => {
  try {
    let result: unknown = true;
    if (message.command === 'drop-connections') result = relay.dropTerminalConnections(message.sandbox);
    else if (message.command === 'sleep-sandbox') await relay.sleepSandbox(message.sandbox!);
    else if (message.command === 'memory') result = process.memoryUsage();
    else if (message.command === 'key-latencies') result = takeKeyLatencies();
    else if (message.command === 'gc') (globalThis as { gc?: () => void }).gc?.();
    else if (message.command === 'close') {
      await relay.close();
      process.send!({ id: message.id, result: true });
      process.exit(0);
    }
    process.send!({ id: message.id, result });
  } catch (error) {
    process.send!({ id: message.id, error: String(error) });
  }
});
process.send!({ ready: relay.url });
