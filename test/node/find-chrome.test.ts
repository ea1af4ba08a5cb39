// How the browser tests find a browser (scripts/find-chrome.mjs), without touching the machine's own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findChrome as find, missingChromeMessage } from '../../scripts/find-chrome.mjs';

describe('findChrome', () => {
  it('takes CHROME_PATH first', () => {
    const found = find({ env: { CHROME_PATH: '/opt/chrome/chrome', CHROMIUM_PATH: '/usr/bin/chromium' }, platform: 'linux', executable: () => true });
    assert.deepEqual(found, { path: '/opt/chrome/chrome', from: 'CHROME_PATH' });
  });

  it('says so when a variable names a file that is not there, instead of taking another browser', () => {
    const found = find({ env: { CHROME_PATH: '/nowhere/chrome' }, platform: 'linux', executable: (path) => path === '/usr/bin/chromium' });
    assert.match(found.error ?? '', /CHROME_PATH is set to \/nowhere\/chrome/);
  });

  it('finds the usual install path on Linux and on macOS', () => {
    assert.equal(find({ env: {}, platform: 'linux', executable: (path) => path === '/usr/bin/google-chrome-stable' }).path, '/usr/bin/google-chrome-stable');
    const mac = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    assert.equal(find({ env: {}, platform: 'darwin', executable: (path) => path === mac }).path, mac);
  });

  it('looks on PATH last', () => {
    const found = find({ env: { PATH: '/a:/opt/bin' }, platform: 'linux', executable: (path) => path === '/opt/bin/chromium-browser' });
    assert.deepEqual(found, { path: '/opt/bin/chromium-browser', from: 'PATH' });
  });

  it('without any, one line says how to get one (on Debian: the package, as .ci/run does)', () => {
    const found = find({ env: { PATH: '/bin' }, platform: 'linux', executable: () => false });
    assert.equal(found.error, missingChromeMessage('linux'));
    assert.match(found.error!, /apt-get install chromium.*\.ci\/run.*CHROME_PATH/);
    assert.equal(found.error!.includes('\n'), false);
  });
});
