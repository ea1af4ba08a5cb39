// Finds a Chrome or Chromium to run the browser tests (and screenshots) with: no browser is ever downloaded.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Variables that name the browser, in the order they are read. */
export const CHROME_PATH_VARIABLES = ['CHROME_PATH', 'CHROMIUM_PATH'];

/** The usual install paths, per platform. */
export const CHROME_INSTALL_PATHS = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'],
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary',
  ],
  win32: ['C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', 'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe'],
};

/** Program names looked up on PATH when no install path matched. */
const CHROME_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser to use: `{ path, from }`, or `{ error }` with one line saying what to do. A variable that names a
 * missing file is an error, not a reason to pick another browser behind the user's back.
 */
export function findChrome({ env = process.env, platform = process.platform, executable = isExecutable } = {}) {
  for (const name of CHROME_PATH_VARIABLES) {
    const path = env[name];
    if (!path) continue;
    if (executable(path)) return { path, from: name };
    return { error: `${name} is set to ${path}, but there is no executable there: point it at a Chrome or Chromium binary, or unset it.` };
  }
  for (const path of CHROME_INSTALL_PATHS[platform] ?? []) if (executable(path)) return { path, from: 'install path' };
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const command of CHROME_COMMANDS) {
      const path = join(dir, platform === 'win32' ? `${command}.exe` : command);
      if (executable(path)) return { path, from: 'PATH' };
    }
  }
  return { error: missingChromeMessage(platform) };
}

/** One line: how to get a browser here. */
export function missingChromeMessage(platform = process.platform) {
  const install =
    platform === 'darwin'
      ? 'install Google Chrome (or `brew install --cask chromium`)'
      : platform === 'win32'
        ? 'install Google Chrome'
        : 'install Chromium (Debian/Ubuntu: `apt-get install chromium`, as .ci/run does)';
  return `No Chrome or Chromium found for the browser tests: ${install}, or set CHROME_PATH to one.`;
}
