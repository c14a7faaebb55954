import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { authServiceFor } from '../src/auth/auth-service.ts';
import { MAX_RESET_EMAILS_PER_HOUR } from '../src/auth/password-reset.ts';
import { createApp } from '../src/http/app.ts';
import { verifyPassword } from '../src/passwords.ts';
import { invalidatePreviousCredentials, issueWelcomeCredential } from '../src/welcome-credentials.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';
import { processNewSubscriber, resetSignInTables, temporaryPasswordFrom, tokenFrom, waitUntil, withAuthConfig } from './support/sign-in.ts';

let harness: TestHarness;
let app: Express;

before(async () => {
  harness = await createHarness({ WELCOME_CREDENTIAL: 'link' });
  app = createApp(harness.context);
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await authServiceFor(harness.context).idle();
  await resetSignInTables(harness);
});

const NEW_PASSWORD = 'seven quiet herons nesting';

async function linkAccount(email = 'lin@example.com') {
  const account = await processNewSubscriber(harness.context, harness, email);
  return { ...account, token: tokenFrom(account.text, '/auth/set-password') };
}

/** Re-sends the welcome credential the way an admin action does: issue, and commit only if the email went out. */
async function reissue(userId: string, options: { commit: boolean; mode?: 'password' | 'link' } = { commit: true }) {
  const context = options.mode ? withAuthConfig(harness.context, { welcomeCredential: options.mode }) : harness.context;
  const user = await context.models.User.findByPk(userId);
  const transaction = await context.database.sequelize.transaction();
  const credential = await issueWelcomeCredential(context, user!, transaction);
  await (options.commit ? transaction.commit() : transaction.rollback());
  return credential;
}

async function forgotPassword(email: string) {
  const response = await request(app).post('/api/auth/forgot-password').send({ email });
  await authServiceFor(harness.context).idle();
  return response;
}

describe('set-password links', () => {
  test('welcome email carries a link, not a password', async () => {
    const account = await linkAccount();

    assert.doesNotMatch(account.text, /Temporary password/);
    assert.match(account.text, /Choose your password: http:\/\/127\.0\.0\.1:9\/auth\/set-password\?token=/);
    assert.match(account.text, /expires on .*2026/);
    assert.ok(Buffer.from(account.token, 'base64url').length >= 16, 'the token carries at least 128 bits');

    const user = await harness.context.models.User.scope('withPassword').findByPk(account.userId);
    assert.equal(user!.password_hash, null, 'no usable password exists');
    const [row] = await harness.context.models.PasswordToken.findAll({ where: { user_id: account.userId } });
    assert.equal(row.token_hash, createHash('sha256').update(account.token).digest('hex'));
    assert.equal(row.purpose, 'set_password');
    assert.equal(row.expires_at.getTime(), harness.clock.now.getTime() + 72 * 3600 * 1000);
  });

  test('HTML part links to the form', async () => {
    const account = await linkAccount('html@example.com');
    const [email] = harness.smtp.messagesTo('html@example.com');
    const html = String(email.parsed.html);

    assert.match(html, new RegExp(`href="http://127\\.0\\.0\\.1:9/auth/set-password\\?token=${account.token}"`));
    assert.match(html, />Choose your password</);
    assert.doesNotMatch(html, /Temporary password/);
  });

  test('SMTP failure leaves no account or link', async () => {
    await makeSubscriber(harness.context, { email: 'down@example.com' });
    await harness.smtp.mode('refuse');

    const summary = await runBatch(harness.context, { batchSize: 1, trigger: 'test' });

    assert.equal(summary.failed, 1);
    assert.equal(await harness.context.models.User.count(), 0);
    assert.equal(await harness.context.models.PasswordToken.count(), 0);
  });

  test('opening the link does not use it', async () => {
    const account = await linkAccount();

    for (let visit = 0; visit < 2; visit++) {
      const page = await request(app).get(`/auth/set-password?token=${account.token}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /name="token" value="[A-Za-z0-9_-]{43}"/);
      assert.match(page.text, new RegExp(account.username));
    }

    const row = await harness.context.models.PasswordToken.findOne({ where: { user_id: account.userId } });
    assert.equal(row!.used_at, null);
  });

  test('link sets the password once', async () => {
    const account = await linkAccount();
    const agent = request.agent(app);

    const set = await agent.post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.user.must_change_password, false);
    assert.equal((await agent.get('/api/auth/me')).status, 200, 'the person is signed in');

    const user = await harness.context.models.User.scope('withPassword').findByPk(account.userId);
    assert.equal(user!.is_verified, true);
    assert.ok(await verifyPassword(user!.password_hash!, NEW_PASSWORD));

    const reused = await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: 'another long passphrase' });
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error.code, 'invalid_token');

    const login = await request(app).post('/api/auth/login').send({ login: account.username, password: NEW_PASSWORD });
    assert.equal(login.status, 200);
  });

  test('concurrent submissions use the link once', async () => {
    const account = await linkAccount();

    const responses = await Promise.all(
      ['first passphrase to win', 'second passphrase to win'].map((password) =>
        request(app).post('/api/auth/set-password').send({ token: account.token, new_password: password }),
      ),
    );

    assert.deepEqual(responses.map((response) => response.status).sort(), [200, 400]);
  });

  test('weak password keeps the link valid', async () => {
    const account = await linkAccount();

    const weak = await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: 'qwerty123456' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'invalid_input');
    assert.match(weak.body.error.fields.new_password, /most common passwords/);

    const good = await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD });
    assert.equal(good.status, 200);
  });

  test('link expires', async () => {
    const account = await linkAccount();
    harness.clock.advanceSeconds(72 * 3600);

    const page = await request(app).get(`/auth/set-password?token=${account.token}`);
    assert.equal(page.status, 400);
    assert.match(page.text, /expired/);
    assert.doesNotMatch(page.text, /name="new_password"/);

    const submit = await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD });
    assert.equal(submit.body.error.code, 'token_expired');
  });

  test('no sign-in before the password is set', async () => {
    const account = await linkAccount();

    const response = await request(app).post('/api/auth/login').send({ login: account.username, password: '' });
    const guess = await request(app).post('/api/auth/login').send({ login: account.username, password: 'any password at all' });

    assert.equal(response.status, 400);
    assert.equal(guess.status, 401);
    assert.equal(guess.body.error.code, 'invalid_credentials');
  });

  test('reset link does not work as set-password link', async () => {
    const account = await linkAccount();

    const response = await request(app).post('/api/auth/reset-password').send({ token: account.token, new_password: NEW_PASSWORD });

    assert.equal(response.body.error.code, 'invalid_token');
  });
});

describe('re-sending welcome credentials', () => {
  test('re-send voids the previous link', async () => {
    const account = await linkAccount();

    const fresh = await reissue(account.userId);
    assert.equal(fresh.kind, 'link');
    const newToken = new URL(fresh.kind === 'link' ? fresh.url : '').searchParams.get('token')!;

    const old = await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD });
    assert.equal(old.body.error.code, 'invalid_token');
    const current = await request(app).post('/api/auth/set-password').send({ token: newToken, new_password: NEW_PASSWORD });
    assert.equal(current.status, 200);
  });

  test('failed re-send keeps the previous link', async () => {
    const account = await linkAccount();

    await reissue(account.userId, { commit: false });

    const response = await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD });
    assert.equal(response.status, 200);
  });

  test('re-send voids the previous temporary password', async () => {
    const passwordMode = withAuthConfig(harness.context, { welcomeCredential: 'password' });
    const account = await processNewSubscriber(passwordMode, harness, 'temp@example.com');
    const oldPassword = temporaryPasswordFrom(account.text);
    const agent = request.agent(app);
    await agent.post('/api/auth/login').send({ login: account.username, password: oldPassword }).expect(200);

    const fresh = await reissue(account.userId, { commit: true, mode: 'password' });
    assert.equal(fresh.kind, 'password');

    const old = await request(app).post('/api/auth/login').send({ login: account.username, password: oldPassword });
    assert.equal(old.status, 401);
    assert.equal((await agent.get('/api/auth/me')).body.error.code, 'not_signed_in', 'the session of the old password ended');
    const current = await request(app).post('/api/auth/login').send({ login: account.username, password: fresh.kind === 'password' ? fresh.password : '' });
    assert.equal(current.status, 200);
    assert.equal(current.body.must_change_password, true);
  });

  test('switching to link mode voids the temporary password', async () => {
    const passwordMode = withAuthConfig(harness.context, { welcomeCredential: 'password' });
    const account = await processNewSubscriber(passwordMode, harness, 'switch@example.com');

    await reissue(account.userId);

    const old = await request(app).post('/api/auth/login').send({ login: account.username, password: temporaryPasswordFrom(account.text) });
    assert.equal(old.status, 401);
  });

  test('invalidation keeps a chosen password', async () => {
    const account = await linkAccount();
    await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD }).expect(200);
    const user = await harness.context.models.User.findByPk(account.userId);

    await harness.context.database.sequelize.transaction((transaction) => invalidatePreviousCredentials(harness.context, user!, transaction));

    const login = await request(app).post('/api/auth/login').send({ login: account.username, password: NEW_PASSWORD });
    assert.equal(login.status, 200);
  });
});

describe('forgotten passwords', () => {
  test('same answer for known and unknown addresses', async () => {
    await linkAccount('known@example.com');
    harness.smtp.received.length = 0;

    const known = await forgotPassword('KNOWN@example.com');
    const unknown = await forgotPassword('unknown@example.com');

    assert.equal(known.status, 202);
    assert.equal(unknown.status, known.status);
    assert.deepEqual(unknown.body, known.body);
    assert.equal(harness.smtp.messagesTo('known@example.com').length, 1);
    assert.equal(harness.smtp.received.length, 1, 'nothing went to the unknown address');
  });

  test('reset link sets a new password', async () => {
    const account = await linkAccount('reset@example.com');
    await request(app).post('/api/auth/set-password').send({ token: account.token, new_password: NEW_PASSWORD }).expect(200);
    const other = request.agent(app);
    await other.post('/api/auth/login').send({ login: account.username, password: NEW_PASSWORD }).expect(200);

    await forgotPassword('reset@example.com');
    const [email] = harness.smtp.messagesTo('reset@example.com').slice(-1);
    assert.equal(email.parsed.subject, 'Reset your Acme Beta password');
    assert.match(String(email.parsed.html), /Choose a new password/);
    const token = tokenFrom(email.parsed.text!, '/auth/reset-password');

    const page = await request(app).get(`/auth/reset-password?token=${token}`);
    assert.equal(page.status, 200);
    const reset = await request(app).post('/api/auth/reset-password').send({ token, new_password: 'a brand new passphrase' });
    assert.equal(reset.status, 200);

    assert.equal((await other.get('/api/auth/me')).status, 401, 'sessions from before the reset ended');
    assert.equal((await request(app).post('/api/auth/login').send({ login: account.username, password: NEW_PASSWORD })).status, 401);
    const delivery = await harness.context.models.EmailDelivery.findOne({ where: { kind: 'password_reset' } });
    assert.equal(delivery!.status, 'accepted');
    assert.equal(delivery!.user_id, account.userId);
  });

  test('reset link expires after an hour', async () => {
    await linkAccount('hour@example.com');
    await forgotPassword('hour@example.com');
    const token = tokenFrom(harness.smtp.messagesTo('hour@example.com').at(-1)!.parsed.text!, '/auth/reset-password');

    harness.clock.advanceSeconds(3600);
    const response = await request(app).post('/api/auth/reset-password').send({ token, new_password: NEW_PASSWORD });

    assert.equal(response.body.error.code, 'token_expired');
  });

  test('newer reset link voids the older one', async () => {
    await linkAccount('twice@example.com');
    await forgotPassword('twice@example.com');
    await forgotPassword('twice@example.com');
    const [first, second] = harness.smtp.messagesTo('twice@example.com').slice(1).map((email) => tokenFrom(email.parsed.text!, '/auth/reset-password'));

    const old = await request(app).post('/api/auth/reset-password').send({ token: first, new_password: NEW_PASSWORD });
    const current = await request(app).post('/api/auth/reset-password').send({ token: second, new_password: NEW_PASSWORD });

    assert.equal(old.body.error.code, 'invalid_token');
    assert.equal(current.status, 200);
  });

  test('reset emails per hour are capped', async () => {
    await linkAccount('often@example.com');

    for (let request = 0; request < MAX_RESET_EMAILS_PER_HOUR + 2; request++) {
      assert.equal((await forgotPassword('often@example.com')).status, 202);
    }

    assert.equal(harness.smtp.messagesTo('often@example.com').length, 1 + MAX_RESET_EMAILS_PER_HOUR);
    harness.clock.advanceSeconds(3601);
    await forgotPassword('often@example.com');
    assert.equal(harness.smtp.messagesTo('often@example.com').length, 2 + MAX_RESET_EMAILS_PER_HOUR);
  });

  test('rejected email leaves no usable link', async () => {
    await linkAccount('bounce@example.com');
    harness.smtp.recipientReply = () => ({ code: 550, message: 'Mailbox unavailable' });

    await forgotPassword('bounce@example.com');

    const tokens = await harness.context.models.PasswordToken.count({ where: { purpose: 'reset_password' } });
    assert.equal(tokens, 0);
    const delivery = await harness.context.models.EmailDelivery.findOne({ where: { kind: 'password_reset' } });
    assert.equal(delivery!.status, 'failed');
    assert.equal(delivery!.error_code, 'smtp_rejected');
    assert.ok(harness.logs.some((line) => line.msg === 'password reset email failed; the person can ask again' && line.userId));
  });

  test('malformed email is named', async () => {
    const response = await request(app).post('/api/auth/forgot-password').send({ email: 'not-an-address' });

    assert.equal(response.status, 400);
    assert.match(response.body.error.fields.email, /name@example\.com/);
  });

  test('forgot-password waits for nothing slow', async () => {
    await linkAccount('slow@example.com');
    harness.smtp.delayMs = 1500;

    try {
      const started = Date.now();
      const response = await request(app).post('/api/auth/forgot-password').send({ email: 'slow@example.com' });
      const answeredAfterMs = Date.now() - started;
      await waitUntil(() => harness.smtp.messagesTo('slow@example.com').length === 2, 'the reset email arrived');

      assert.equal(response.status, 202);
      assert.ok(answeredAfterMs < harness.smtp.delayMs, 'the answer did not wait for the SMTP server');
    } finally {
      harness.smtp.delayMs = 0;
    }
  });
});

describe('secrets in links', () => {
  test('no token in logs or tables', async () => {
    const account = await linkAccount('quiet@example.com');
    await forgotPassword('quiet@example.com');
    const resetToken = tokenFrom(harness.smtp.messagesTo('quiet@example.com').at(-1)!.parsed.text!, '/auth/reset-password');
    await request(app).post('/api/auth/reset-password').send({ token: resetToken, new_password: NEW_PASSWORD }).expect(200);

    const logs = JSON.stringify(harness.logs);
    const [rows] = await harness.context.database.sequelize.query(
      'SELECT row_to_json(t)::text AS row FROM password_tokens t UNION ALL SELECT row_to_json(u)::text FROM users u UNION ALL SELECT row_to_json(s)::text FROM http_sessions s',
    );
    for (const secret of [account.token, resetToken, NEW_PASSWORD]) {
      assert.ok(!logs.includes(secret), 'the log lines do not contain the secret');
      for (const { row } of rows as Array<{ row: string }>) assert.ok(!row.includes(secret), 'no row contains the secret');
    }
  });
});
