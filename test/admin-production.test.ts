import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeStaff, STAFF_PASSWORD } from './support/admin.ts';
import { installProductionBuild } from './support/production-build.ts';
import { runServerToExit, startServer } from './support/server-process.ts';

const SECRET = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);

let harness: TestHarness;
let folder: string;
let bin: string;
let bundleFile: string;

/** Returns the environment of a production start on the harness database. */
function productionEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: harness.database.url,
    DATA_DIR: path.join(folder, 'data'),
    LOG_FILE: '',
    HOST: '127.0.0.1',
    PORT: '0',
    PROCESSOR_ENABLED: 'false',
    SESSION_SECRET: SECRET,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(harness.smtp.port),
    ...overrides,
  };
}

before(async () => {
  harness = await createHarness();
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-admin-production-'));
  // The same build as "npm run build", laid out as a production install without dev dependencies.
  bin = await installProductionBuild(folder);
  bundleFile = path.join(folder, 'dist', '.adminjs', 'bundle.js');
});

after(async () => {
  await harness.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('admin panel in production', () => {
  test('serves the prebuilt components bundle', async () => {
    const bundle = readFileSync(bundleFile, 'utf8');
    assert.match(bundle, /WaitlistDashboard/, 'the build bundled the panel components');

    const staff = await makeStaff(harness);
    const server = await startServer(productionEnvironment(), folder, 60_000, bin);
    try {
      const served = await request(server.url).get('/admin/frontend/assets/components.bundle.js');
      assert.equal(served.status, 200, server.output());
      assert.match(String(served.headers['content-type']), /javascript/);
      assert.equal(served.text, bundle, 'the file from the build is served as it is');

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

  test('refuses to start without the bundle', async () => {
    renameSync(bundleFile, `${bundleFile}.moved`);
    try {
      const { code, output } = await runServerToExit(productionEnvironment(), folder, 60_000, bin);

      assert.equal(code, 1);
      assert.match(output, /components bundle .* is missing: run \\"npm run build\\"/);
    } finally {
      renameSync(`${bundleFile}.moved`, bundleFile);
    }
  });

  test('refuses the example session secret', async () => {
    const { code, output } = await runServerToExit(productionEnvironment({ SESSION_SECRET: 'change-me-to-a-long-random-string' }), folder, 60_000, bin);

    assert.equal(code, 2);
    assert.match(output, /SESSION_SECRET is missing or still the example value, and NODE_ENV=production/);
  });
});
