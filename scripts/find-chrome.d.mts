/** Declarations for find-chrome.mjs (a plain script, so that web-test-runner's config can import it without a build). */
export declare const CHROME_PATH_VARIABLES: readonly string[];
export declare const CHROME_INSTALL_PATHS: Readonly<Record<string, readonly string[]>>;
export type FoundChrome = { path: string; from: string; error?: undefined } | { error: string; path?: undefined; from?: undefined };
export declare function findChrome(options?: {
  env?: Record<string, string | undefined>;
  platform?: string;
  executable?: (path: string) => boolean;
}): FoundChrome;
export declare function missingChromeMessage(platform?: string): string;
