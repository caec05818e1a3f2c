/**
 * Headless Chromium for the browser tests, driven by playwright-core.
 * Where the binary is missing the tests skip with a message, except under
 * `.ci/run` (TJSTP_REQUIRE_BROWSER=1), where they fail: they must never
 * pass silently.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The binary: TJSTP_CHROMIUM, or Debian's `chromium-headless-shell`. */
export const CHROMIUM = process.env.TJSTP_CHROMIUM ?? '/usr/bin/chromium-headless-shell';

/** A skip reason for `describe(…, { skip })`, or false when Chromium is here. Throws under CI when it is not. */
export const browserMissing = (): string | false => {
  if (fs.existsSync(CHROMIUM)) return false;
  if (process.env.TJSTP_REQUIRE_BROWSER === '1') {
    throw new Error(`${CHROMIUM} is missing, and TJSTP_REQUIRE_BROWSER=1 (CI) requires the browser tests to run`);
  }
  return `${CHROMIUM} is missing (apt-get install -y chromium-headless-shell, or set TJSTP_CHROMIUM): the browser tests are skipped`;
};

export const launchBrowser = (): Promise<Browser> => chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

/** What went wrong in a page: console errors and uncaught exceptions, as they come. */
export const pageProblems = (page: Page): string[] => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return problems;
};
