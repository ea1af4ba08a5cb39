import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { TerminalOrder, UNSHOWN_OUTPUT_WAIT_MS } from '../../server/src/session/terminal-order.ts';

/** A TerminalOrder whose sink collects what viewers would see, as text. */
function ordered(): { order: TerminalOrder; shown: () => string } {
  const chunks: Buffer[] = [];
  return { order: new TerminalOrder((data) => chunks.push(data)), shown: () => Buffer.concat(chunks).toString() };
}

const bytes = (text: string) => Buffer.from(text);

describe('TerminalOrder puts exec output and PTY output back into terminal order', () => {
  it('exec output that comes before its B marker is held until the command line is shown', () => {
    const { order, shown } = ordered();
    order.jobStarted('j1');
    order.execOutput(bytes('out\n'));
    assert.equal(shown(), '');
    order.terminal(bytes('$ echo out\r\n'));
    order.begun('j1');
    assert.equal(shown(), '$ echo out\r\nout\r\n');
  });

  it('terminal output after the E marker (the next prompt) waits until the job has settled', () => {
    const { order, shown } = ordered();
    order.jobStarted('j1');
    order.begun('j1');
    order.endedOnTerminal('j1');
    order.terminal(bytes('$ '));
    order.execOutput(bytes('late\n'));
    assert.equal(shown(), 'late\r\n');
    order.settled(true);
    assert.equal(shown(), 'late\r\n$ ');
  });

  it('a job that settles before its B marker shows its output right after the B marker', () => {
    const { order, shown } = ordered();
    order.jobStarted('j1');
    order.execOutput(bytes('early\n'));
    order.settled(true);
    order.terminal(bytes('$ cmd\r\n'));
    assert.equal(shown(), '$ cmd\r\n');
    order.begun('j1');
    assert.equal(shown(), '$ cmd\r\nearly\r\n');
  });

  it(`without its B marker, a settled job's output is shown after ${UNSHOWN_OUTPUT_WAIT_MS} ms anyway`, () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { order, shown } = ordered();
      order.jobStarted('j1');
      order.execOutput(bytes('orphan\n'));
      order.settled(true);
      mock.timers.tick(UNSHOWN_OUTPUT_WAIT_MS - 1);
      assert.equal(shown(), '');
      mock.timers.tick(1);
      assert.equal(shown(), 'orphan\r\n');
    } finally {
      mock.timers.reset();
    }
  });

  it('when the shell ends, everything held is shown at once, in order', () => {
    const { order, shown } = ordered();
    order.jobStarted('j1');
    order.execOutput(bytes('a\n'));
    order.flush();
    assert.equal(shown(), 'a\r\n');
    order.terminal(bytes('after'));
    assert.equal(shown(), 'a\r\nafter');
    assert.equal(order.heldBytes, 0);
  });

  it('markers of another job change nothing', () => {
    const { order, shown } = ordered();
    order.jobStarted('j2');
    order.execOutput(bytes('x\n'));
    order.begun('j1');
    order.endedOnTerminal('j1');
    order.terminal(bytes('pty'));
    assert.equal(shown(), 'pty');
    order.begun('j2');
    assert.equal(shown(), 'ptyx\r\n');
  });
});
