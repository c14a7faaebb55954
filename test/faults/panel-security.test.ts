import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { hashPassword } from '../../src/passwords.ts';
import { runBatch } from '../../src/run-batch.ts';
import { createHarness } from '../support/context.ts';
import { makeSubscriber } from '../support/factories.ts';
import { killAllProcesses, processEnvironment, startWaitlist } from '../support/processes.ts';

// These tests run against the real web process (`waitlist serve`), whatever mounts the admin panel in it.
// Until the panel is mounted, GET /admin returns 404 and every test here is reported as skipped.

const harness = await createHarness();
const web = startWaitlist({
  name: 'panel-web',
  args: ['serve'],
  environment: processEnvironment(harness, { PORT: '0', PROCESSOR_ENABLED: 'false', TRUST_PROXY: 'true' }),
});
const listening = await web.waitForLog('the web app address', (line) => line.msg === 'web app listening');
const baseUrl = String(listening.url);
const panelMounted = (await fetch(`${baseUrl}/admin`, { redirect: 'manual' })).status !== 404;

after(async () => {
  web.kill('SIGTERM');
  await web.waitForExit(15_000).catch(() => killAllProcesses());
  await harness.close();
});

const STAFF = { email: 'staff@example.com', password: 'correct horse battery staple' };
const MEMBER = { email: 'member@example.com', password: 'another long password here' };

async function addUsers() {
  const { User } = harness.context.models;
  const argon2 = harness.config.passwords.argon2;
  await User.create({ username: 'staff', email: STAFF.email, password_hash: await hashPassword(STAFF.password, argon2), is_staff: true, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
  await User.create({ username: 'member', email: MEMBER.email, password_hash: await hashPassword(MEMBER.password, argon2), last_name: null, phone_number: null, password_expires_at: null, last_login: null });

  // One subscriber processed into an account (with a hash and a delivery), one still waiting.
  await makeSubscriber(harness.context, { email: 'processed@example.com' });
  await runBatch(harness.context, { batchSize: 1, trigger: 'test' });
  return makeSubscriber(harness.context, { email: 'waiting@example.com' });
}

async function passwordHashes(): Promise<string[]> {
  const rows = await harness.context.database.sequelize.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE password_hash IS NOT NULL', { type: QueryTypes.SELECT });
  return rows.map((row) => row.password_hash);
}

function signIn(credentials: { email: string; password: string }, headers: Record<string, string> = {}) {
  const agent = request.agent(baseUrl);
  const response = agent.post('/admin/login').set(headers).type('form').send(credentials).redirects(0);
  return { agent, response };
}

/** Admin routes, by AdminJS's route layout and the action names of the panel, each with its method. */
function adminRoutes(subscriberId: string): Array<[method: 'get' | 'post', path: string]> {
  return [
    ['get', '/admin'],
    ['get', '/admin/resources/waitlist_subscribers'],
    ['get', `/admin/resources/waitlist_subscribers/records/${subscriberId}/show`],
    ['get', '/admin/resources/users'],
    ['get', '/admin/resources/email_deliveries'],
    ['get', '/admin/api/dashboard'],
    ['get', '/admin/api/resources/users/actions/list'],
    ['get', '/admin/api/resources/users/actions/search/staff'],
    ['get', '/admin/api/resources/users/records/1/show'],
    ['get', '/admin/api/resources/waitlist_subscribers/actions/list'],
    ['get', `/admin/api/resources/waitlist_subscribers/records/${subscriberId}/show`],
    ['get', '/admin/api/resources/email_deliveries/actions/list'],
    ['post', `/admin/api/resources/waitlist_subscribers/records/${subscriberId}/processNow`],
    ['post', `/admin/api/resources/waitlist_subscribers/bulk/processSelected?recordIds=${subscriberId}`],
    ['post', '/admin/api/resources/waitlist_subscribers/actions/processPending'],
    ['post', `/admin/api/resources/users/records/1/delete`],
  ];
}

const skip = panelMounted ? false : 'admin panel not mounted';

describe('admin panel security', () => {
  let waitingId: string;

  test('routes without session redirect to login', { skip }, async () => {
    const waiting = await addUsers();
    waitingId = waiting.id;
    // The web process may have made a first staff account of its own at start-up, so compare with the count now.
    const usersBefore = await harness.context.models.User.count();

    for (const [method, path] of adminRoutes(waitingId)) {
      const response = await request(baseUrl)[method](path).redirects(0);
      assert.equal(response.status, 302, `${method.toUpperCase()} ${path} answers with a redirect`);
      assert.match(response.headers.location ?? '', /\/admin\/login$/, `${method.toUpperCase()} ${path} redirects to the login`);
    }

    await waiting.reload();
    assert.equal(waiting.is_processed, false, 'no action ran without a session');
    assert.equal(await harness.context.models.User.count(), usersBefore, 'nothing was deleted or created');
  });

  test('non-staff user cannot sign in', { skip }, async () => {
    const { agent, response } = signIn(MEMBER);
    const answer = await response;
    assert.notEqual(answer.status, 302, 'no redirect into the panel');

    const after = await agent.get('/admin').redirects(0);
    assert.equal(after.status, 302);
    assert.match(after.headers.location ?? '', /\/admin\/login$/);
  });

  test('wrong staff password is refused', { skip }, async () => {
    const { agent, response } = signIn({ email: STAFF.email, password: 'not the password at all' });
    assert.notEqual((await response).status, 302);
    assert.match((await agent.get('/admin').redirects(0)).headers.location ?? '', /\/admin\/login$/);
  });

  test('no response contains a password hash', { skip }, async () => {
    const { agent, response } = signIn(STAFF);
    const answer = await response;
    assert.equal(answer.status, 302, 'staff sign in');
    assert.doesNotMatch(answer.headers.location ?? '', /login/);

    const hashes = await passwordHashes();
    assert.ok(hashes.length >= 3, 'staff, member and the processed account have hashes');
    for (const [method, path] of adminRoutes(waitingId).filter(([method]) => method === 'get')) {
      const page = await agent.get(path);
      assert.equal(page.status, 200, `GET ${path} as staff`);
      // assert.ok rather than doesNotMatch, so that a failure does not print the body with its hashes.
      assert.ok(!/\$argon2/.test(page.text), `GET ${path} contains no argon2 hash`);
      for (const hash of hashes) assert.ok(!page.text.includes(hash), `GET ${path} contains no stored hash`);
      assert.ok(!/"password_hash"\s*:\s*"[^"]/.test(page.text), `GET ${path} sends no password_hash value`);
    }
  });

  test('session cookie flags', { skip }, async () => {
    const plain = await signIn(STAFF).response;
    const behindTls = await signIn(STAFF, { 'X-Forwarded-Proto': 'https' }).response;

    for (const answer of [plain, behindTls]) {
      const cookies = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
      assert.ok(cookies.length > 0, 'the sign-in sets a session cookie');
      for (const cookie of cookies) {
        assert.match(cookie, /;\s*HttpOnly/i, 'httpOnly');
        assert.match(cookie, /;\s*SameSite=Strict/i, 'sameSite strict');
      }
    }
    for (const cookie of ([] as string[]).concat(behindTls.headers['set-cookie'] ?? [])) {
      assert.match(cookie, /;\s*Secure/i, 'secure behind a TLS proxy');
    }
  });
});
