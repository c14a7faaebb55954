// Drives the panel in Debian's headless Chromium, the way a newcomer uses it after a first start.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browser.ts';
import { seedTestSubscribers } from '../seeders/test-subscribers.ts';
import { createHarness, TEST_ENVIRONMENT, type TestHarness } from './support/context.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));


let harness: TestHarness;
let server: ServerProcess;
let browser: Browser;
let folder: string;
const requested: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
  harness = await createHarness();
  await seedTestSubscribers(harness.context.models);
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-browser-'));

  // The development server bundles the components on the first page, from the project folder.
  server = await startServer(
    {
      ...TEST_ENVIRONMENT,
      NODE_ENV: 'development',
      DATABASE_URL: harness.database.url,
      DATA_DIR: folder,
      LOG_FILE: path.join(folder, 'waitlist.log'),
      HOST: '127.0.0.1',
      PORT: '0',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(harness.smtp.port),
      PROCESSOR_ENABLED: 'false',
      ADMIN_JS_TMP_DIR: path.join(folder, 'adminjs'),
    },
    PROJECT_ROOT,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await harness?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** The credentials the first start printed to the terminal. */
function printedCredentials(): { email: string; password: string } {
  const email = /Email: +(\S+)/.exec(server.output())?.[1];
  const password = /Password: +(\S+)/.exec(server.output())?.[1];
  assert.ok(email && password, `the first start printed credentials:\n${server.output()}`);
  return { email, password };
}

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
  page.on('request', (request) => requested.push(request.url()));
  return page;
}

describe('admin panel in a browser', () => {
  test('newcomer flow from sign-in to pause', async () => {
    const page = await openPage();
    const { email, password } = printedCredentials();

    // Sign in with what the terminal showed.
    await page.goto(`${server.url}/admin/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await Promise.all([page.waitForURL(`${server.url}/admin`), page.locator('form button').click()]);
    await page.getByTestId('waitlist-dashboard').waitFor();
    assert.equal(await page.getByTestId('count-pending').locator('h2').textContent(), '5');

    // Filter the subscribers: only Ada matches.
    await page.goto(`${server.url}/admin/resources/waitlist_subscribers?filters.search=LOVELACE`);
    await page.getByText('ada.lovelace@example.com').first().waitFor();
    assert.equal(await page.getByText('grace.hopper@example.com').count(), 0, 'the filter hides other subscribers');

    // Process Ada now from her page and read the notice.
    const ada = await harness.context.models.WaitlistSubscriber.findOne({ where: { email: 'ada.lovelace@example.com' } });
    await page.goto(`${server.url}/admin/resources/waitlist_subscribers/records/${ada!.id}/show`);
    await page.getByText('Subscriber information').waitFor();
    await page.getByText('Process now', { exact: true }).click();
    await page.getByText('Process this subscriber now?').waitFor();
    await page.locator('button[label="Confirm"]').click();
    await page.getByText('Account ada.lovelace created and the welcome email accepted').waitFor();
    assert.equal(harness.smtp.messagesTo('ada.lovelace@example.com').length, 1);

    // The linked user shows by username and leads to the user's page, which links back.
    await page.goto(`${server.url}/admin/resources/waitlist_subscribers/records/${ada!.id}/show`);
    await page.getByRole('link', { name: 'ada.lovelace' }).click();
    await page.getByTestId('subscriber-link').waitFor();
    assert.equal(await page.getByTestId('subscriber-link').textContent(), 'ada.lovelace@example.com');

    // Pause processing on the dashboard.
    await page.goto(`${server.url}/admin`);
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Pause processing' }).click();
    await page.getByRole('button', { name: 'Resume processing' }).waitFor();
    const settings = await harness.context.models.ProcessorSetting.findByPk(1);
    assert.equal(settings?.paused, true);
    assert.equal(settings?.paused_by, email);
    await page.screenshot({ path: path.join(folder, 'dashboard.png'), fullPage: true });
  });

  test('requests go to the server only', () => {
    assert.ok(requested.length > 0);
    const elsewhere = requested.filter((url) => !url.startsWith(server.url) && !url.startsWith('data:'));
    assert.deepEqual(elsewhere, [], 'no request leaves for a third-party host');
  });
});
