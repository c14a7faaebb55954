import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { createHarness, type TestHarness } from './support/context.ts';
import { adminClient, appFor, makeStaff, resetAdminTables, signIn, STAFF_PASSWORD } from './support/admin.ts';
import { makeSubscriber } from './support/factories.ts';

let harness: TestHarness;
let app: Express;

before(async () => {
  harness = await createHarness({ ADMIN_SIGN_IN_MAX_FAILURES: '3', SIGN_IN_THROTTLE_WINDOW_MINUTES: '15' });
  app = appFor(harness);
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetAdminTables(harness);
});

describe('admin sign-in', () => {
  test('staff signs in with the right password', async () => {
    const staff = await makeStaff(harness);
    const client = await signIn(app, staff);

    const list = await client.get('/admin/api/resources/waitlist_subscribers/actions/list');
    assert.equal(list.status, 200);
    assert.equal(list.body.meta.perPage, 50);

    await staff.reload();
    assert.ok(staff.last_login, 'the sign-in is recorded as last_login');
    const [{ count }] = await harness.context.database.sequelize.query<{ count: string }>('SELECT count(*) FROM http_sessions', { type: 'SELECT' as never });
    assert.equal(Number(count), 1, 'the session is stored in PostgreSQL');
  });

  test('accepts username and email in any case', async () => {
    const staff = await makeStaff(harness, { email: 'Ops.Lead@Example.com', username: 'opslead' });

    for (const login of ['ops.lead@example.COM', 'opslead']) {
      const response = await request(app).post('/admin/login').type('form').send({ email: login, password: STAFF_PASSWORD });
      assert.equal(response.status, 302, login);
    }
    assert.ok(staff.id);
  });

  test('refuses a wrong password', async () => {
    const staff = await makeStaff(harness);

    const response = await request(app).post('/admin/login').type('form').send({ email: staff.email, password: 'not the password at all' });

    assert.equal(response.status, 200, 'AdminJS answers a failed sign-in with the login page');
    assert.equal(response.headers['set-cookie'], undefined, 'no session cookie is set');
    assert.match(response.text, /invalidCredentials|Wrong email and\/or password/);
    assert.ok(harness.logs.some((line) => line.msg === 'admin sign-in failed' && line.reason === 'wrong_password'));
  });

  test('refuses non-staff and inactive accounts', async () => {
    const member = await makeStaff(harness, { is_staff: false, is_superuser: false });
    const former = await makeStaff(harness, { is_active: false });

    for (const user of [member, former]) {
      const response = await request(app).post('/admin/login').type('form').send({ email: user.email, password: STAFF_PASSWORD });
      assert.equal(response.status, 200, user.email);
      assert.equal(response.headers['set-cookie'], undefined, `${user.email} gets no session`);
    }
    assert.ok(harness.logs.some((line) => line.reason === 'not_staff'));
    assert.ok(harness.logs.some((line) => line.reason === 'inactive'));
  });

  test('locks an address out with 429', async () => {
    const staff = await makeStaff(harness);
    const attempt = (password: string) => request(app).post('/admin/login').type('form').send({ email: staff.email, password });

    for (let failure = 1; failure <= 3; failure++) {
      assert.equal((await attempt('wrong password here')).status, 200, `failure ${failure} gets the login page`);
    }

    const refused = await attempt(STAFF_PASSWORD);
    assert.equal(refused.status, 429, 'even the right password is refused while locked out');
    assert.equal(refused.headers['retry-after'], String(15 * 60));
    assert.match(refused.text, /Too many failed sign-ins/);
    assert.ok(harness.logs.some((line) => line.msg === 'admin sign-in locked for this address after repeated failures'));

    // Another web process on the same database sees the same counter.
    const otherProcess = appFor(harness);
    assert.equal((await request(otherProcess).post('/admin/login').type('form').send({ email: staff.email, password: STAFF_PASSWORD })).status, 429);

    harness.clock.advanceSeconds(15 * 60 + 1);
    assert.equal((await attempt(STAFF_PASSWORD)).status, 302, 'the lockout ends after its period');
  });

  test('successes do not count', async () => {
    const staff = await makeStaff(harness);
    const attempt = (password: string) => request(app).post('/admin/login').type('form').send({ email: staff.email, password });

    await attempt('wrong password here');
    await attempt('wrong password here');
    for (let success = 1; success <= 3; success++) {
      assert.equal((await attempt(STAFF_PASSWORD)).status, 302, `success ${success} after two failures`);
    }

    await attempt('wrong password here');
    assert.equal((await attempt(STAFF_PASSWORD)).status, 429, 'the third failure locks the address');
  });
});

describe('admin session', () => {
  test('cookie is httpOnly, strict and scoped', async () => {
    const staff = await makeStaff(harness);

    const response = await request(app).post('/admin/login').type('form').send({ email: staff.email, password: STAFF_PASSWORD });

    const cookie = String(response.headers['set-cookie']);
    assert.match(cookie, /^waitlist_admin=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\/admin/);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP gets no Secure flag');
  });

  test('cookie is secure behind a TLS proxy', async () => {
    const { config } = harness.context;
    const proxied = appFor({ ...harness, context: { ...harness.context, config: { ...config, session: { ...config.session, trustProxy: 1 } } } });
    const staff = await makeStaff(harness);

    const response = await request(proxied).post('/admin/login').set('X-Forwarded-Proto', 'https').type('form').send({ email: staff.email, password: STAFF_PASSWORD });

    assert.equal(response.status, 302);
    assert.match(String(response.headers['set-cookie']), /Secure/);
  });

  test('pages need a session', async () => {
    for (const path of ['/admin', '/admin/resources/waitlist_subscribers', '/admin/api/resources/users/actions/list', '/admin/api/dashboard']) {
      const response = await request(app).get(path);
      assert.equal(response.status, 302, path);
      assert.match(response.headers.location, /\/admin\/login$/, path);
    }
  });

  test('deactivated staff loses the session', async () => {
    const staff = await makeStaff(harness);
    const client = await signIn(app, staff);

    await staff.update({ is_active: false });
    const response = await client.get('/admin/api/resources/users/actions/list');

    assert.equal(response.status, 302);
    assert.match(response.headers.location, /\/admin\/login$/);
  });

  test('rejects cross-site API calls', async () => {
    const staff = await makeStaff(harness);
    const client = await signIn(app, staff);

    const response = await client.agent.get('/admin/api/resources/waitlist_subscribers/actions/processPending').set('Sec-Fetch-Site', 'cross-site');

    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'cross_site_request');
    assert.equal(await harness.context.models.ProcessorRun.count(), 0, 'no run started');
  });

  test('pages link no third-party host', async () => {
    const staff = await makeStaff(harness);
    const login = await request(app).get('/admin/login');
    const client = await signIn(app, staff);
    const layout = await client.get('/admin');

    for (const [name, response] of [['login', login], ['layout', layout]] as const) {
      assert.equal(response.status, 200, name);
      assert.doesNotMatch(response.text, /googleapis/, `${name} page links no Google Fonts`);
      assert.doesNotMatch(response.text, /(?:href|src)=["']?(?:https?:)?\/\//i, `${name} page loads nothing from another host`);
      assert.match(String(response.headers['content-security-policy']), /default-src 'self'/, name);
    }
  });
});

describe('superuser rights', () => {
  test('only superusers delete records', async () => {
    const plain = await makeStaff(harness, { is_superuser: false });
    const boss = await makeStaff(harness);
    const subscriber = await makeSubscriber(harness.context);
    const path = `/admin/api/resources/waitlist_subscribers/records/${subscriber.id}/delete`;

    const refused = await (await signIn(app, plain)).post(path);
    assert.equal(refused.body.notice.type, 'error');
    assert.equal(refused.body.notice.message, 'forbiddenError');
    assert.equal(await harness.context.models.WaitlistSubscriber.count(), 1);

    const accepted = await (await signIn(app, boss)).post(path);
    assert.equal(accepted.status, 200);
    assert.equal(await harness.context.models.WaitlistSubscriber.count(), 0);
    const audit = await harness.context.models.AdminAuditEntry.findOne({ where: { action: 'delete' } });
    assert.equal(audit?.staff_email, boss.email);
    assert.equal(audit?.record_ids, subscriber.id);
  });

  test('only superusers change staff flags', async () => {
    const plain = await makeStaff(harness, { is_superuser: false });
    const boss = await makeStaff(harness);
    const member = await makeStaff(harness, { is_staff: false, is_superuser: false });
    const path = `/admin/api/resources/users/records/${member.id}/edit`;

    const refused = await (await signIn(app, plain)).post(path, { is_staff: 'true', first_name: 'Changed' });
    assert.equal(refused.status, 200);
    assert.equal(refused.body.record.errors.is_staff.message, 'Only superusers can change staff flags.');
    await member.reload();
    assert.equal(member.is_staff, false);
    assert.equal(member.first_name, '', 'nothing of the refused edit is saved');

    const accepted = await (await signIn(app, boss)).post(path, { is_staff: 'true' });
    assert.equal(accepted.status, 200);
    assert.deepEqual(accepted.body.record.errors, {});
    await member.reload();
    assert.equal(member.is_staff, true);
  });

  test('staff edits other user fields', async () => {
    const plain = await makeStaff(harness, { is_superuser: false });
    const member = await makeStaff(harness, { is_staff: false, is_superuser: false });

    const response = await (await signIn(app, plain)).post(`/admin/api/resources/users/records/${member.id}/edit`, { first_name: 'Grace', is_staff: 'false', is_superuser: 'false' });

    assert.equal(response.status, 200);
    assert.deepEqual(response.body.record.errors, {});
    await member.reload();
    assert.equal(member.first_name, 'Grace');
  });

  test('users cannot be created in the panel', async () => {
    const staff = await makeStaff(harness);
    const client = adminClient(app);
    await client.post('/admin/login', { email: staff.email, password: STAFF_PASSWORD });

    const response = await client.post('/admin/api/resources/users/actions/new', { username: 'x', email: 'x@example.com' });

    assert.equal(response.body.notice.type, 'error');
    assert.equal(await harness.context.models.User.count(), 1);
  });
});
