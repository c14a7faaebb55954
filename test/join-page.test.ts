import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browser.ts';
import { createApp } from '../src/http/app.ts';
import { createHarness, type TestHarness } from './support/context.ts';

// The hosted form and a landing page on another origin, driven by Debian's Chromium in headless mode.
// Host resolution is limited to 127.0.0.1, so the browser reaches nothing else.


let harness: TestHarness;
let app: Server;
let landing: Server;
let browser: BrowserContext;
let profile: string;
let appUrl: string;
let landingUrl: string;

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Renders an operator's own landing page for another origin, with a plain form and a script that posts JSON. */
function landingPage(apiUrl: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Landing</title></head><body>
    <form method="post" action="${apiUrl}/api/waitlist">
      <label for="email">Email</label><input id="email" name="email">
      <input type="hidden" name="source" value="advertisement">
      <button type="submit">Join</button>
    </form>
    <script>
      window.joinWithScript = async (email) => {
        const response = await fetch('${apiUrl}/api/waitlist', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) });
        return { status: response.status, body: await response.json() };
      };
    </script>
  </body></html>`;
}

before(async () => {
  landing = await listen(createServer());
  landingUrl = urlOf(landing);
  harness = await createHarness({ SIGNUP_RATE_LIMIT_PER_MINUTE: '0', SIGNUP_ALLOWED_ORIGINS: landingUrl });
  app = await listen(createServer(createApp(harness.context)));
  appUrl = urlOf(app);
  landing.on('request', (_request, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end(landingPage(appUrl)));

  profile = mkdtempSync(path.join(tmpdir(), 'waitlist-chromium-'));
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => app.close(resolve));
  await new Promise((resolve) => landing.close(resolve));
  await harness.close();
  rmSync(profile, { recursive: true, force: true });
});

async function openPage(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  // Status lines (the 400 of a refused form, a missing favicon) are expected; anything else is a problem.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  await page.goto(url);
  return { page, problems };
}

async function subscriber(email: string) {
  return harness.context.models.WaitlistSubscriber.findOne({ where: { email } });
}

describe('hosted join page in Chromium', () => {
  test('shows errors then joins', async () => {
    const { page, problems } = await openPage(`${appUrl}/join`);
    assert.equal(await page.title(), 'Join the waitlist for Acme Beta');

    await page.getByLabel('Email address').fill('ada@@example');
    await page.getByLabel('Name (optional)').fill('Ada Lovelace');
    await page.getByLabel('Phone number (optional)').fill('0207 946 0958');
    await page.getByLabel('How did you hear about us? (optional)').selectOption('referral');
    await page.getByRole('button', { name: 'Join the waitlist' }).click();

    await page.waitForURL(`${appUrl}/api/waitlist`);
    assert.equal(await page.title(), 'Error: Join the waitlist for Acme Beta');
    const summary = page.getByRole('alert');
    assert.match(await summary.innerText(), /Please fix these problems/);
    assert.equal(await summary.getByRole('link').count(), 2);
    assert.equal(await page.getByLabel('Email address').getAttribute('aria-invalid'), 'true');
    assert.match((await page.locator('#email-error').innerText()), /part before the @|domain/);
    assert.equal(await page.getByLabel('Name (optional)').inputValue(), 'Ada Lovelace', 'what was typed is kept');
    assert.equal(await page.getByLabel('How did you hear about us? (optional)').inputValue(), 'referral');

    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Phone number (optional)').fill('+44 20 7946 0958');
    await page.getByRole('button', { name: 'Join the waitlist' }).click();

    await page.waitForURL(`${appUrl}/join/thanks`);
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /You are on the waitlist/);
    const stored = await subscriber('ada@example.com');
    assert.equal(stored?.phone_number, '+442079460958');
    assert.equal(stored?.source, 'referral');
    assert.deepEqual(problems, [], 'no console errors, such as content security policy violations');
    await page.close();
  });

  test('stylesheet applies under the CSP', async () => {
    const { page } = await openPage(`${appUrl}/join`);

    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(244, 245, 247)');
    const trapVisible = await page.locator('.trap').isVisible().catch(() => false);
    const trapBox = await page.locator('#url').boundingBox();
    assert.ok(!trapVisible || (trapBox !== null && trapBox.x < 0), 'the honeypot field is off screen');
    await page.close();
  });

  test('landing page on another origin joins with a form', async () => {
    const { page } = await openPage(landingUrl);

    await page.getByLabel('Email').fill('landing@example.com');
    await page.getByRole('button', { name: 'Join' }).click();

    await page.waitForURL(`${appUrl}/join/thanks`);
    assert.equal((await subscriber('landing@example.com'))?.source, 'advertisement');
    await page.close();
  });

  test('allowed origin script reads the JSON answer', async () => {
    const { page } = await openPage(landingUrl);

    const first = await page.evaluate(() => (window as unknown as { joinWithScript: (email: string) => Promise<unknown> }).joinWithScript('script@example.com'));
    const again = await page.evaluate(() => (window as unknown as { joinWithScript: (email: string) => Promise<unknown> }).joinWithScript('SCRIPT@example.com'));

    assert.deepEqual(first, { status: 201, body: { subscriber: { email: 'script@example.com', name: null, phone_number: null, source: 'website' } } });
    assert.equal((again as { status: number }).status, 200);
    await page.close();
  });
});
