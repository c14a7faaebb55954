import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browser.ts';
import { createApp } from '../src/http/app.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { processNewSubscriber, temporaryPasswordFrom, tokenFrom, withAuthConfig } from './support/sign-in.ts';

// Skipped on a developer machine without Chromium, never in CI, where .ci/run installs it.
const missing = existsSync(CHROMIUM) || process.env.CI ? false : `no browser at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`;

let harness: TestHarness;
let server: Server;
let browser: BrowserContext;
let profile: string;

before(async () => {
  if (missing) return;

  // The server listens first, so that FRONTEND_URL (and with it the links in the emails) can name its port.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  harness = await createHarness({ FRONTEND_URL: `http://127.0.0.1:${port}` });
  server.on('request', createApp(harness.context));

  profile = mkdtempSync(path.join(tmpdir(), 'waitlist-chromium-'));
  // A persistent context is how playwright takes a fresh profile folder (--user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

after(async () => {
  if (missing) return;
  await browser?.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await harness.close();
  rmSync(profile, { recursive: true, force: true });
});

/** Fills a field found by its visible label, as a person (or a screen reader) finds it. */
async function fill(page: Page, label: string, value: string) {
  await page.getByLabel(label, { exact: true }).fill(value);
}

describe('sign-in in a browser', { skip: missing }, () => {
  test('welcome email link to a new password', async () => {
    const account = await processNewSubscriber(harness.context, harness, 'browser@example.com');
    const loginUrl = /Sign in: (\S+)/.exec(account.text)![1];
    const page = await browser.newPage();

    await page.goto(loginUrl);
    await fill(page, 'Username or email', account.username);
    await fill(page, 'Password', temporaryPasswordFrom(account.text));
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL('**/auth/change-password');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Choose your password');
    await fill(page, 'Temporary password', temporaryPasswordFrom(account.text));
    await fill(page, 'New password', 'short');
    await fill(page, 'New password again', 'short');
    await page.getByRole('button', { name: 'Save password' }).click();
    const error = await page.locator('#new_password-error').textContent();
    assert.match(error ?? '', /at least 12 characters/);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'change-password-error.png'), fullPage: true });

    await fill(page, 'Temporary password', temporaryPasswordFrom(account.text));
    await fill(page, 'New password', 'copper kettles hum softly');
    await fill(page, 'New password again', 'copper kettles hum softly');
    await page.getByRole('button', { name: 'Save password' }).click();

    await page.waitForURL('**/auth/account?password_changed=1');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'You are signed in');
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'account.png'), fullPage: true });
    await page.close();
  });

  test('set-password link signs in', async () => {
    const linkMode = withAuthConfig(harness.context, { welcomeCredential: 'link' });
    const account = await processNewSubscriber(linkMode, harness, 'browser-link@example.com');
    const url = /Choose your password: (\S+)/.exec(account.text)![1];
    assert.ok(tokenFrom(account.text, '/auth/set-password'));
    const page = await browser.newPage();

    await page.goto(url);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'set-password.png'), fullPage: true });
    await fill(page, 'New password', 'maple syrup on a snowy porch');
    await fill(page, 'New password again', 'maple syrup on a snowy porch');
    await page.getByRole('button', { name: 'Save password and sign in' }).click();

    await page.waitForURL('**/auth/account?password_changed=1');
    assert.match((await page.locator('main').textContent()) ?? '', new RegExp(`Signed in as ${account.username}`));
    await page.close();
  });
});
