/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { Terminal } from '@xterm/xterm';
import { ShellPromptTracker } from '@sandbox-terminal/elements/classes';
import { cleanUpFixtures, fixture } from './helpers.ts';

/** A bare xterm fed by hand: what the shell prints is written, what the user types is input. */
function terminalWithTracker(): { terminal: Terminal; tracker: ShellPromptTracker; write: (data: string) => Promise<void> } {
  const terminal = new Terminal({ cols: 80, rows: 10 });
  terminal.open(fixture());
  const tracker = new ShellPromptTracker(terminal);
  const write = (data: string) => new Promise<void>((resolve) => terminal.write(data, resolve));
  return { terminal, tracker, write };
}

const CWD_REPORT = '\x1b]7;file://sandbox/workspace/app\x07';

describe('ShellPromptTracker', () => {
  afterEach(cleanUpFixtures);

  it('reads the typed command from where the prompt ended', async () => {
    const { terminal, tracker, write } = terminalWithTracker();
    await write(`${CWD_REPORT}user@sandbox:/workspace/app$ `);
    terminal.input('s', true);
    await write('sleep 30');
    terminal.input('leep 30\r', true);
    await write('\r\n');
    expect(tracker.cwd).to.equal('/workspace/app');
    expect(tracker.commandRunning).to.equal(true);
    expect(tracker.command).to.equal('sleep 30');
    await write(`\r\n${CWD_REPORT}`);
    expect(tracker.command).to.equal(undefined);
    expect(tracker.commandRunning).to.equal(false);
  });

  it('still reads it when the first key came before the prompt was drawn (cwd report and prompt are separate writes)', async () => {
    const { terminal, tracker, write } = terminalWithTracker();
    await write(CWD_REPORT);
    terminal.input('s', true);
    await write('root@sandbox:/workspace/app# s');
    await write('leep 30');
    terminal.input('leep 30\r', true);
    await write('\r\n');
    expect(tracker.command).to.equal('sleep 30');
  });

  it('waits for the echo: Enter typed before the rest of the line came back still reads all of it', async () => {
    const { terminal, tracker, write } = terminalWithTracker();
    await write(`${CWD_REPORT}$ `);
    terminal.input('sleep 30\r', true);
    await write('sleep');
    expect(tracker.commandRunning).to.equal(true);
    await write(' 30\r\n');
    expect(tracker.command).to.equal('sleep 30');
  });

  it('a full-screen program started by the command does not hide it', async () => {
    const { terminal, tracker, write } = terminalWithTracker();
    await write(`${CWD_REPORT}$ `);
    terminal.input('vim notes.md\r', true);
    await write('vim notes.md\r\n\x1b[?1049h\x1b[2J~\r\n~');
    expect(terminal.buffer.active.type).to.equal('alternate');
    expect(tracker.command).to.equal('vim notes.md');
  });

  it('a command line that wraps is read whole', async () => {
    const { terminal, tracker, write } = terminalWithTracker();
    const long = `echo ${'x'.repeat(100)}`;
    await write(`${CWD_REPORT}$ `);
    terminal.input('e', true);
    await write(long);
    terminal.input('\r', true);
    await write('\r\n');
    expect(tracker.command).to.equal(long);
  });
});
