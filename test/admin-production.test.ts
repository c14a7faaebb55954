import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import request from 'supertest';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeStaff, STAFF_PASSWORD } from './support/admin.ts';
import { runServerToExit, startServer, TSX_LOADER } from './support/server-process.ts';

const run = promisify(execFile);
const BUNDLE_SCRIPT = fileURLToPath(new URL('../scripts/bundle-admin.ts', import.meta.url));
const SECRET = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);

let harness: TestHarness;
let folder: string;
let bundleDir: string;

/** The environment of a production start on the harness database, with the bundle in this file's own folder. */
function productionEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: harness.database.url,
    DATA_DIR: folder,
    LOG_FILE: '',
    HOST: '127.0.0.1',
    PORT: '0',
    PROCESSOR_ENABLED: 'false',
    SESSION_SECRET: SECRET,
    ADMIN_JS_TMP_DIR: bundleDir,
    ...overrides,
  };
}

before(async () => {
  harness = await createHarness();
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-production-'));
  bundleDir = path.join(folder, 'adminjs');
});

after(async () => {
  await harness.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('production start', () => {
  test('refuses a missing bundle', async () => {
    const { code, output } = await runServerToExit(productionEnvironment(), folder);

    assert.equal(code, 1);
    assert.match(output, /components bundle .* is missing: run \\"npm run build\\"/);
  });

  test('serves the prebuilt components bundle', async () => {
    await run(process.execPath, ['--import', TSX_LOADER, BUNDLE_SCRIPT], { env: { ...process.env, ADMIN_JS_TMP_DIR: bundleDir }, cwd: folder });
    const bundle = readFileSync(path.join(bundleDir, 'bundle.js'), 'utf8');
    assert.match(bundle, /WaitlistDashboard/, 'the bundle holds the panel components');

    const staff = await makeStaff(harness);
    const server = await startServer(productionEnvironment(), folder);
    try {
      const served = await request(server.url).get('/admin/frontend/assets/components.bundle.js');
      assert.equal(served.status, 200, server.output());
      assert.match(String(served.headers['content-type']), /javascript/);
      assert.equal(served.text, bundle, 'the file from npm run build is served as it is');

      const agent = request.agent(server.url);
      assert.equal((await agent.post('/admin/login').type('form').send({ email: staff.email, password: STAFF_PASSWORD })).status, 302);
      const page = await agent.get('/admin');
      assert.equal(page.status, 200);
      assert.match(page.text, /components\.bundle\.js/);
      assert.doesNotMatch(server.output(), /bundling user components/, 'production does not bundle at start');
    } finally {
      await server.stop();
    }
  });

  test('refuses the example session secret', async () => {
    const { code, output } = await runServerToExit(productionEnvironment({ SESSION_SECRET: 'change-me-to-a-long-random-string' }), folder);

    assert.equal(code, 2);
    assert.match(output, /SESSION_SECRET is missing or still the example value, and NODE_ENV=production/);
  });
});
