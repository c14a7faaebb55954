import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, mock, test } from 'node:test';
import argon2 from 'argon2';
import type { Express } from 'express';
import request from 'supertest';
import { accountSession } from '../src/http/account-session.ts';
import { createApp } from '../src/http/app.ts';
import { requireAccount } from '../src/http/auth-api.ts';
import { verifyPassword } from '../src/passwords.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { processNewSubscriber, resetSignInTables, temporaryPasswordFrom, withAuthConfig } from './support/sign-in.ts';

let harness: TestHarness;
let app: Express;

before(async () => {
  harness = await createHarness();
  app = createApp(harness.context);
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetSignInTables(harness);
});

const NEW_PASSWORD = 'plum tractor sings at dawn';

async function newAccount(email = 'ada@example.com') {
  const account = await processNewSubscriber(harness.context, harness, email);
  return { ...account, password: temporaryPasswordFrom(account.text) };
}

async function signedIn(login: string, password: string) {
  const agent = request.agent(app);
  const response = await agent.post('/api/auth/login').send({ login, password });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return agent;
}

async function sessionCount(userId: string): Promise<number> {
  const [rows] = await harness.context.database.sequelize.query("SELECT count(*)::int AS n FROM http_sessions WHERE sess ->> 'userId' = $1", { bind: [userId] });
  return (rows as Array<{ n: number }>)[0].n;
}

describe('sign-in API with a temporary password', () => {
  test('first sign-in forces a password change', async () => {
    const account = await newAccount('Ada.Lovelace@Example.com');
    const agent = request.agent(app);

    const login = await agent.post('/api/auth/login').send({ login: account.username, password: account.password });
    assert.equal(login.status, 200);
    assert.equal(login.body.must_change_password, true);
    assert.equal(login.body.user.username, account.username);
    assert.equal(login.body.user.email, 'Ada.Lovelace@example.com', 'subscribers are stored with the domain in lower case');
    assert.equal('password_hash' in login.body.user, false);
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /^waitlist_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);

    const blocked = await agent.get('/api/auth/me');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error.code, 'password_change_required');

    const changed = await agent.post('/api/auth/change-password').send({ current_password: account.password, new_password: NEW_PASSWORD });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.user.must_change_password, false);

    const me = await agent.get('/api/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user.username, account.username);

    const again = await request(app).post('/api/auth/login').send({ login: account.username, password: NEW_PASSWORD });
    assert.equal(again.status, 200);
    assert.equal(again.body.must_change_password, false);

    const old = await request(app).post('/api/auth/login').send({ login: account.username, password: account.password });
    assert.equal(old.status, 401);
    assert.equal(old.body.error.code, 'invalid_credentials');
  });

  test('password change updates the account row', async () => {
    const account = await newAccount();
    const agent = await signedIn(account.username, account.password);
    harness.clock.advanceSeconds(3600);

    await agent.post('/api/auth/change-password').send({ current_password: account.password, new_password: NEW_PASSWORD }).expect(200);

    const user = await harness.context.models.User.scope('withPassword').findByPk(account.userId);
    assert.ok(user);
    assert.equal(user.must_change_password, false);
    assert.equal(user.password_expires_at, null);
    assert.equal(user.is_verified, true);
    assert.equal(user.last_login!.getTime(), harness.clock.now.getTime());
    assert.match(user.password_hash!, /^\$argon2id\$/);
    assert.ok(await verifyPassword(user.password_hash!, NEW_PASSWORD));
  });

  test('first sign-in marks email verified', async () => {
    const account = await newAccount();
    const before = await harness.context.models.User.findByPk(account.userId);
    assert.equal(before!.is_verified, false);

    await signedIn(account.username, account.password);

    const after = await harness.context.models.User.findByPk(account.userId);
    assert.equal(after!.is_verified, true);
    assert.equal(after!.last_login!.getTime(), harness.clock.now.getTime());
  });

  test('login accepts email in any case', async () => {
    const account = await newAccount('Grace.Hopper@Example.com');

    const response = await request(app).post('/api/auth/login').send({ login: '  GRACE.HOPPER@example.COM ', password: account.password });

    assert.equal(response.status, 200);
    assert.equal(response.body.user.username, account.username);
  });

  test('username matches exactly', async () => {
    const account = await newAccount('alan@example.org');

    const response = await request(app).post('/api/auth/login').send({ login: account.username.toUpperCase(), password: account.password });

    assert.equal(response.status, 401);
  });

  test('change ends other sessions only', async () => {
    const account = await newAccount();
    const first = await signedIn(account.username, account.password);
    const second = await signedIn(account.email, account.password);
    assert.equal(await sessionCount(account.userId), 2);

    await first.post('/api/auth/change-password').send({ current_password: account.password, new_password: NEW_PASSWORD }).expect(200);

    assert.equal(await sessionCount(account.userId), 1);
    assert.equal((await first.get('/api/auth/me')).status, 200);
    const ended = await second.get('/api/auth/me');
    assert.equal(ended.status, 401);
    assert.equal(ended.body.error.code, 'not_signed_in');
  });

  test('new password rules name the field', async () => {
    const account = await newAccount();
    const agent = await signedIn(account.username, account.password);
    const cases: Array<[string, RegExp]> = [
      ['short pass', /at least 12 characters/],
      ['password1234', /most common passwords/],
      ['QWERTYUIOP123', /most common passwords/],
      [account.password, /must differ/],
      ['x'.repeat(257), /at most 256 characters/],
    ];

    for (const [candidate, message] of cases) {
      const response = await agent.post('/api/auth/change-password').send({ current_password: account.password, new_password: candidate });
      assert.equal(response.status, 400, candidate);
      assert.equal(response.body.error.code, 'invalid_input');
      assert.match(response.body.error.fields.new_password, message);
    }

    const user = await harness.context.models.User.findByPk(account.userId);
    assert.equal(user!.must_change_password, true, 'no rejected password was stored');
  });

  test('wrong current password is rejected', async () => {
    const account = await newAccount();
    const agent = await signedIn(account.username, account.password);

    const response = await agent.post('/api/auth/change-password').send({ current_password: 'not the temporary one', new_password: NEW_PASSWORD });

    assert.equal(response.status, 400);
    assert.match(response.body.error.fields.current_password, /temporary password/);
    assert.equal((await agent.get('/api/auth/me')).body.error.code, 'password_change_required');
  });

  test('long passwords with spaces and accents work', async () => {
    const account = await newAccount();
    const agent = await signedIn(account.username, account.password);
    // "é" as one code point here and as "e" plus a combining accent below: the same password after normalization.
    const chosen = 'Ma phrase de passe préférée, très longue et pleine d’espaces. '.repeat(3).slice(0, 128);
    assert.equal([...chosen].length, 128);

    await agent.post('/api/auth/change-password').send({ current_password: account.password, new_password: chosen }).expect(200);

    const decomposed = chosen.normalize('NFD');
    assert.notEqual(decomposed, chosen);
    const response = await request(app).post('/api/auth/login').send({ login: account.username, password: decomposed });
    assert.equal(response.status, 200);
  });

  test('expired temporary password is rejected', async () => {
    const account = await newAccount();
    harness.clock.advanceSeconds(168 * 3600);

    const response = await request(app).post('/api/auth/login').send({ login: account.username, password: account.password });

    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'temporary_password_expired');
    assert.match(response.body.error.message, /welcome email/);
    assert.match(response.body.error.message, /Forgot password/);
    assert.equal(response.headers['set-cookie'], undefined, 'no session is started');
  });

  test('guard protects routes of other modules', async () => {
    const account = await newAccount();
    const combined = createApp(harness.context);
    combined.get('/api/things', accountSession(harness.context), requireAccount(harness.context), (_request, response) => {
      response.json({ owner: response.locals.user.username });
    });
    const agent = request.agent(combined);

    assert.equal((await agent.get('/api/things')).body.error.code, 'not_signed_in');
    await agent.post('/api/auth/login').send({ login: account.username, password: account.password }).expect(200);
    const blocked = await agent.get('/api/things');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error.code, 'password_change_required');
    await agent.post('/api/auth/change-password').send({ current_password: account.password, new_password: NEW_PASSWORD }).expect(200);
    assert.deepEqual((await agent.get('/api/things')).body, { owner: account.username });
  });

  test('logout ends the session', async () => {
    const account = await newAccount();
    const agent = await signedIn(account.username, account.password);

    const response = await agent.post('/api/auth/logout');

    assert.equal(response.status, 204);
    assert.equal(await sessionCount(account.userId), 0);
    assert.equal((await agent.get('/api/auth/me')).body.error.code, 'not_signed_in');
  });
});

describe('sign-in API input', () => {
  test('missing fields are named', async () => {
    const response = await request(app).post('/api/auth/login').send({ login: '  ' });

    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid_input');
    assert.ok(response.body.error.fields.login);
    assert.ok(response.body.error.fields.password);
  });

  test('non-JSON body is rejected', async () => {
    const response = await request(app).post('/api/auth/login').type('form').send({ login: 'ada', password: 'x' });

    assert.equal(response.status, 415);
    assert.equal(response.body.error.code, 'unsupported_media_type');
  });

  test('malformed JSON is rejected', async () => {
    const response = await request(app).post('/api/auth/login').set('Content-Type', 'application/json').send('{"login":');

    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid_json');
  });

  test('cross-site request is rejected', async () => {
    const account = await newAccount();

    const response = await request(app)
      .post('/api/auth/login')
      .set('Origin', 'https://elsewhere.example')
      .send({ login: account.username, password: account.password });

    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'cross_site_request');
  });

  test('same-site origin is accepted', async () => {
    const account = await newAccount();

    const own = await request(app).post('/api/auth/login').set('Origin', 'http://127.0.0.1:9').send({ login: account.username, password: account.password });

    assert.equal(own.status, 200);
  });
});

describe('sign-in enumeration', () => {
  test('unknown login and wrong password look alike', async () => {
    const account = await newAccount('known@example.com');
    const attempts = [
      { login: account.username, password: 'wrong password here' },
      { login: 'known@example.com', password: 'wrong password here' },
      { login: 'nobody', password: 'wrong password here' },
      { login: 'nobody@example.com', password: 'wrong password here' },
    ];

    const responses = [];
    for (const attempt of attempts) responses.push(await request(app).post('/api/auth/login').send(attempt));

    for (const response of responses) {
      assert.equal(response.status, 401);
      assert.deepEqual(response.body, responses[0].body);
      assert.equal(response.headers['set-cookie'], undefined);
    }
  });

  test('unknown login still verifies a hash', async () => {
    const account = await newAccount('known@example.com');
    await request(app).post('/api/auth/login').send({ login: 'nobody', password: 'warm up the dummy hash' });
    const verify = mock.method(argon2, 'verify');

    try {
      await request(app).post('/api/auth/login').send({ login: account.username, password: 'wrong password here' });
      const forKnown = verify.mock.callCount();
      await request(app).post('/api/auth/login').send({ login: 'nobody', password: 'wrong password here' });
      const forUnknown = verify.mock.callCount() - forKnown;

      assert.equal(forKnown, 1, 'a wrong password costs one argon2 verification');
      assert.equal(forUnknown, forKnown, 'an unknown login costs the same');
    } finally {
      verify.mock.restore();
    }
  });

  test('inactive account looks like a wrong password', async () => {
    const account = await newAccount();
    await harness.context.models.User.update({ is_active: false }, { where: { id: account.userId } });

    const inactive = await request(app).post('/api/auth/login').send({ login: account.username, password: account.password });
    const unknown = await request(app).post('/api/auth/login').send({ login: 'nobody', password: account.password });

    assert.equal(inactive.status, 401);
    assert.deepEqual(inactive.body, unknown.body);
  });
});

describe('sign-in throttling', () => {
  test('account locks after failures, then recovers', async () => {
    const account = await newAccount();
    const limit = harness.config.auth.throttle.maxFailuresPerAccount;
    const firstLogLine = harness.logs.length;

    for (let attempt = 1; attempt <= limit; attempt++) {
      const response = await request(app).post('/api/auth/login').send({ login: account.username, password: `wrong ${attempt}` });
      assert.equal(response.status, 401, `attempt ${attempt}`);
    }

    const locked = await request(app).post('/api/auth/login').send({ login: account.username, password: account.password });
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'too_many_attempts');
    assert.equal(locked.headers['retry-after'], String(15 * 60));
    await request(app).post('/api/auth/login').send({ login: account.username, password: account.password }).expect(429);
    const warnings = harness.logs.slice(firstLogLine).filter((line) => String(line.msg).startsWith('sign-in throttled'));
    assert.equal(warnings.length, 1, 'the lockout is logged once');
    assert.ok(!JSON.stringify(warnings).includes(account.username), 'the log line names no login');

    harness.clock.advanceSeconds(15 * 60);
    const recovered = await request(app).post('/api/auth/login').send({ login: account.username, password: account.password });
    assert.equal(recovered.status, 200);
  });

  test('unknown login locks the same way', async () => {
    const limit = harness.config.auth.throttle.maxFailuresPerAccount;
    const statuses = [];

    for (let attempt = 1; attempt <= limit + 1; attempt++) {
      statuses.push((await request(app).post('/api/auth/login').send({ login: 'nobody@example.com', password: `wrong ${attempt}` })).status);
    }

    assert.deepEqual(statuses, [...Array(limit).fill(401), 429]);
  });

  test('success clears the account counter', async () => {
    const account = await newAccount();
    const limit = harness.config.auth.throttle.maxFailuresPerAccount;

    for (let attempt = 1; attempt < limit; attempt++) {
      await request(app).post('/api/auth/login').send({ login: account.username, password: `wrong ${attempt}` }).expect(401);
    }
    await request(app).post('/api/auth/login').send({ login: account.username, password: account.password }).expect(200);

    const next = await request(app).post('/api/auth/login').send({ login: account.username, password: 'wrong again' });
    assert.equal(next.status, 401, 'the counter started again');
  });

  test('client address locks across logins', async () => {
    const context = withAuthConfig(harness.context, { throttle: { windowMinutes: 15, maxFailuresPerAccount: 10, maxFailuresPerAddress: 3 } });
    const local = createApp({ ...context, config: { ...context.config, session: { ...context.config.session, trustProxy: true } } });
    const account = await newAccount();
    const from = (address: string) => ({ 'X-Forwarded-For': address });

    for (const login of ['first', 'second', 'third']) {
      await request(local).post('/api/auth/login').set(from('203.0.113.7')).send({ login, password: 'wrong password' }).expect(401);
    }

    const blocked = await request(local).post('/api/auth/login').set(from('203.0.113.7')).send({ login: account.username, password: account.password });
    assert.equal(blocked.status, 429);
    const elsewhere = await request(local).post('/api/auth/login').set(from('198.51.100.4')).send({ login: account.username, password: account.password });
    assert.equal(elsewhere.status, 200);
  });

  test('concurrent attempts stay within the limit', async () => {
    const limit = harness.config.auth.throttle.maxFailuresPerAccount;

    const responses = await Promise.all(
      Array.from({ length: limit + 5 }, (_, index) => request(app).post('/api/auth/login').send({ login: 'target', password: `guess ${index}` })),
    );

    const checked = responses.filter((response) => response.status === 401).length;
    assert.equal(checked, limit, 'no more passwords were checked than the limit allows');
  });

  test('wrong current passwords are throttled', async () => {
    const account = await newAccount();
    const agent = await signedIn(account.username, account.password);
    const limit = harness.config.auth.throttle.maxFailuresPerAccount;

    for (let attempt = 1; attempt <= limit; attempt++) {
      await agent.post('/api/auth/change-password').send({ current_password: `wrong ${attempt}`, new_password: NEW_PASSWORD }).expect(400);
    }
    const locked = await agent.post('/api/auth/change-password').send({ current_password: account.password, new_password: NEW_PASSWORD });

    assert.equal(locked.status, 429);
  });
});
