import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { authServiceFor } from '../src/auth/auth-service.ts';
import { createApp } from '../src/http/app.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { processNewSubscriber, resetSignInTables, temporaryPasswordFrom, tokenFrom, withAuthConfig } from './support/sign-in.ts';

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
  await authServiceFor(harness.context).idle();
  await resetSignInTables(harness);
});

const NEW_PASSWORD = 'lanterns over the quiet harbour';

/** Strips styles and tags from `html`, for checks that do not depend on markup details. */
function textOf(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('sign-in pages', () => {
  test('login page has labelled fields', async () => {
    const response = await request(app).get('/auth/login');

    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'], /text\/html/);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.match(response.headers['content-security-policy'], /default-src 'none'/);
    assert.match(response.text, /<html lang="en">/);
    assert.match(response.text, /<label for="login">Username or email<\/label>/);
    assert.match(response.text, /<input id="login" name="login" type="text" autocomplete="username"/);
    assert.match(response.text, /<label for="password">Password<\/label>/);
    assert.match(response.text, /autocomplete="current-password"/);
    assert.match(response.text, /href="\/auth\/forgot-password"/);
    assert.doesNotMatch(response.text, /<script/i, 'the page needs no JavaScript');
  });

  test('pages walk through the forced change', async () => {
    const account = await processNewSubscriber(harness.context, harness, 'page@example.com');
    const password = temporaryPasswordFrom(account.text);
    const agent = request.agent(app);

    const login = await agent.post('/auth/login').type('form').send({ login: account.username, password });
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/auth/change-password');

    const account1 = await agent.get('/auth/account');
    assert.equal(account1.status, 303, 'other pages send the person back to the change form');
    assert.equal(account1.headers.location, '/auth/change-password');

    const form = await agent.get('/auth/change-password');
    assert.equal(form.status, 200);
    assert.match(textOf(form.text), /Choose your password/);
    assert.match(form.text, /<label for="current_password">Temporary password<\/label>/);

    const mismatch = await agent.post('/auth/change-password').type('form').send({ current_password: password, new_password: NEW_PASSWORD, confirm_password: 'something else' });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.text, /id="confirm_password-error"/);
    assert.match(mismatch.text, /id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" aria-describedby="confirm_password-error" aria-invalid="true"/);
    assert.doesNotMatch(mismatch.text, new RegExp(NEW_PASSWORD), 'passwords are never echoed back');

    const common = await agent.post('/auth/change-password').type('form').send({ current_password: password, new_password: 'qwerty123456', confirm_password: 'qwerty123456' });
    assert.equal(common.status, 400);
    assert.match(textOf(common.text), /most common passwords/);

    const saved = await agent.post('/auth/change-password').type('form').send({ current_password: password, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.location, '/auth/account?password_changed=1');

    const signedIn = await agent.get('/auth/account?password_changed=1');
    assert.equal(signedIn.status, 200);
    assert.match(textOf(signedIn.text), new RegExp(`Signed in as ${account.username}`));
    assert.match(textOf(signedIn.text), /Your new password is saved/);

    const logout = await agent.post('/auth/logout');
    assert.equal(logout.headers.location, '/auth/login?signed_out=1');

    const again = await request(app).post('/auth/login').type('form').send({ login: account.email, password: NEW_PASSWORD });
    assert.equal(again.status, 303);
    assert.equal(again.headers.location, '/auth/account');

    const old = await request(app).post('/auth/login').type('form').send({ login: account.username, password });
    assert.equal(old.status, 401);
    assert.match(textOf(old.text), /The username or email, or the password, is not correct/);
    assert.match(old.text, new RegExp(`value="${account.username}"`), 'the login is kept in the form');
  });

  test('wrong login and password read alike', async () => {
    const account = await processNewSubscriber(harness.context, harness, 'alike@example.com');

    const wrongPassword = await request(app).post('/auth/login').type('form').send({ login: account.username, password: 'not it at all' });
    const unknown = await request(app).post('/auth/login').type('form').send({ login: 'someone-else', password: 'not it at all' });

    assert.equal(wrongPassword.status, 401);
    assert.equal(unknown.status, 401);
    const message = (html: string) => /<div class="summary"[\s\S]*?<\/div>/.exec(html)![0];
    assert.equal(message(wrongPassword.text), message(unknown.text));
  });

  test('empty login form names both fields', async () => {
    const response = await request(app).post('/auth/login').type('form').send({ login: '', password: '' });

    assert.equal(response.status, 400);
    assert.match(response.text, /id="login-error"/);
    assert.match(response.text, /id="password-error"/);
    assert.match(response.text, /<a href="#login">/, 'the summary links to the field');
  });

  test('signed-out visitor goes to login', async () => {
    for (const path of ['/auth/account', '/auth/change-password', '/auth']) {
      const response = await request(app).get(path);
      assert.equal(response.status, 303, path);
      assert.equal(response.headers.location, '/auth/login', path);
    }
  });

  test('set-password page signs the person in', async () => {
    const linkMode = withAuthConfig(harness.context, { welcomeCredential: 'link' });
    const account = await processNewSubscriber(linkMode, harness, 'pagelink@example.com');
    const token = tokenFrom(account.text, '/auth/set-password');
    const agent = request.agent(app);

    const form = await agent.get(`/auth/set-password?token=${token}`);
    assert.equal(form.status, 200);
    assert.equal(form.headers['referrer-policy'], 'same-origin');
    assert.match(form.text, /<label for="new_password">New password<\/label>/);

    const saved = await agent.post('/auth/set-password').type('form').send({ token, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD });
    assert.equal(saved.status, 303);
    const page = await agent.get(saved.headers.location);
    assert.match(textOf(page.text), new RegExp(`Signed in as ${account.username}`));

    const reused = await request(app).get(`/auth/set-password?token=${token}`);
    assert.equal(reused.status, 400);
    assert.match(textOf(reused.text), /already used/);
  });

  test('forgot-password page answers alike', async () => {
    await processNewSubscriber(harness.context, harness, 'forgot@example.com');

    const known = await request(app).post('/auth/forgot-password').type('form').send({ email: 'forgot@example.com' });
    const unknown = await request(app).post('/auth/forgot-password').type('form').send({ email: 'stranger@example.com' });
    await authServiceFor(harness.context).idle();

    assert.equal(known.status, 200);
    assert.equal(textOf(known.text), textOf(unknown.text).replace(/\s+/g, ' '));
    assert.match(textOf(known.text), /If an active account uses this address/);
    assert.equal(harness.smtp.messagesTo('forgot@example.com').length, 2, 'the welcome email and the reset email');
    assert.equal(harness.smtp.messagesTo('stranger@example.com').length, 0);
  });

  test('same-origin form without origin passes', async () => {
    const response = await request(app)
      .post('/auth/login')
      .type('form')
      .set({ Origin: 'null', 'Sec-Fetch-Site': 'same-origin' })
      .send({ login: 'someone', password: 'not the password' });

    assert.equal(response.status, 401, 'the form was handled, not rejected');
  });

  test('form from another site is rejected', async () => {
    const cases = [{ Origin: 'https://elsewhere.example' }, { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'cross-site' }];

    for (const headers of cases) {
      const response = await request(app).post('/auth/login').type('form').set(headers).send({ login: 'a', password: 'b' });
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.match(textOf(response.text), /sent from another site/);
    }
  });
});
