import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecJob } from '../../server/src/session/exec-job.ts';
import { ExecQueue, type JobRunner } from '../../server/src/session/exec-queue.ts';

/** A shell as the queue sees it: accepts a job when told to, and records what it was sent. */
class FakeRunner implements JobRunner {
  acceptsJob = false;
  readonly ran: string[] = [];
  run(job: ExecJob): void {
    this.ran.push(job.request.command);
    this.acceptsJob = false;
  }
}

const job = (command: string, options: Partial<ExecJob['request']> = {}) => new ExecJob({ command, ...options }, 'session', 1024);

describe('ExecQueue', () => {
  it('runs one job at a time, in the order they came, only when the shell accepts one', () => {
    const queue = new ExecQueue(() => undefined);
    const shell = new FakeRunner();
    for (const command of ['first', 'second']) queue.add(job(command));
    queue.pump(shell);
    assert.deepEqual(shell.ran, [], 'not at a prompt');
    shell.acceptsJob = true;
    queue.pump(shell);
    queue.pump(shell);
    assert.deepEqual(shell.ran, ['first'], 'one at a time');
    queue.settleCurrent({ exitCode: 0 });
    shell.acceptsJob = true;
    queue.pump(shell);
    assert.deepEqual(shell.ran, ['first', 'second']);
  });

  it('a job queued while there is no shell, or one that is ending, runs at the next shell\'s first prompt', async () => {
    const queue = new ExecQueue(() => undefined);
    const next = job('after the replacement');
    queue.add(next);
    queue.pump(undefined);
    const ending = new FakeRunner();
    queue.pump(ending);
    const replacement = new FakeRunner();
    replacement.acceptsJob = true;
    queue.pump(replacement);
    assert.deepEqual([ending.ran, replacement.ran], [[], ['after the replacement']]);
    queue.settleCurrent({ exitCode: 0 });
    assert.equal((await next.result).exitCode, 0);
  });

  it('a job whose timeout runs out while it waits is dropped with exit code 124; the running one is handed over', async () => {
    const handedOver: string[] = [];
    const queue = new ExecQueue((running) => handedOver.push(running.request.command));
    const shell = new FakeRunner();
    shell.acceptsJob = true;
    const running = job('running', { timeoutMs: 20 });
    const waiting = job('waiting', { timeoutMs: 20 });
    queue.add(running);
    queue.add(waiting);
    queue.pump(shell);
    const dropped = await waiting.result;
    assert.deepEqual([dropped.exitCode, dropped.timedOut, dropped.success], [124, true, false]);
    assert.deepEqual(handedOver, ['running']);
    assert.equal(running.timedOut, true);
    assert.equal(queue.busy, true, 'the running job stays until its owner settles it');
  });

  it('a caller that already went away gets 124 at once; failWaiting ends the rest', async () => {
    const queue = new ExecQueue(() => undefined);
    const abort = new AbortController();
    abort.abort();
    const gone = job('gone', { signal: abort.signal });
    queue.add(gone);
    assert.deepEqual([(await gone.result).exitCode, queue.busy], [124, false]);
    const left = job('left');
    queue.add(left);
    queue.failWaiting({ exitCode: -1 });
    assert.equal((await left.result).exitCode, -1);
    assert.equal(queue.busy, false);
  });

  it('a job settled by a signal reports it: 128 + n, the signal, no success', async () => {
    const queue = new ExecQueue(() => undefined);
    const shell = new FakeRunner();
    shell.acceptsJob = true;
    const killed = job('kill -9 $$');
    queue.add(killed);
    queue.pump(shell);
    queue.settleCurrent({ exitCode: 137, signal: 9 });
    const result = await killed.result;
    assert.deepEqual([result.exitCode, result.signal, result.success], [137, 9, false]);
  });
});
