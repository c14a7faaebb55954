import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { announceFirstStaffAccount } from '../src/cli/first-staff-account.ts';
import { verifyPassword } from '../src/passwords.ts';
import { createOrPromoteStaff, StaffInputError } from '../src/staff-accounts.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { appFor, resetAdminTables } from './support/admin.ts';
import { runWaitlist } from './support/cli.ts';

let harness: TestHarness;

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetAdminTables(harness);
});

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk;
      done();
    },
  });
  return { stream, text: () => text };
}

async function hashOf(email: string): Promise<string> {
  const user = await harness.context.models.User.scope('withPassword').findOne({ where: { email } });
  return user!.password_hash!;
}

describe('first staff account', () => {
  test('is created once and printed only', async () => {
    const output = capture();

    await announceFirstStaffAccount(harness.context, 'http://127.0.0.1:3000/admin', output.stream);

    const password = /Password: +(\S+)/.exec(output.text())?.[1];
    assert.ok(password, 'the password is printed');
    assert.match(output.text(), /Email: +admin@example\.com/);
    assert.match(output.text(), /Sign in at: http:\/\/127\.0\.0\.1:3000\/admin/);
    assert.ok(password.length >= 20);

    const staff = await harness.context.models.User.findOne({ where: { email: 'admin@example.com' } });
    assert.equal(staff?.is_staff, true);
    assert.equal(staff?.is_superuser, true);
    assert.ok(await verifyPassword(await hashOf('admin@example.com'), password));
    assert.ok(!JSON.stringify(harness.logs).includes(password), 'the password never reaches the logger');

    const response = await request(appFor(harness)).post('/admin/login').type('form').send({ email: 'admin@example.com', password });
    assert.equal(response.status, 302, 'the printed credentials sign in');

    const again = capture();
    await announceFirstStaffAccount(harness.context, 'http://127.0.0.1:3000/admin', again.stream);
    assert.equal(again.text(), '', 'a second start prints nothing');
    assert.equal(await harness.context.models.User.count(), 1);
  });

  test('is not created in production', async () => {
    const output = capture();
    const production = { ...harness.context, config: { ...harness.context.config, production: true } };

    await announceFirstStaffAccount(production, 'http://127.0.0.1:3000/admin', output.stream);

    assert.equal(output.text(), '');
    assert.equal(await harness.context.models.User.count(), 0);
    assert.ok(harness.logs.some((line) => String(line.msg).includes('waitlist create-admin --email')));
  });
});

describe('create-admin command', () => {
  test('reads the password from standard input', async () => {
    const result = await runWaitlist(harness, ['create-admin', '--email', 'Ops@Example.com'], { input: 'a long piped password\n' });

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Created superuser account ops <Ops@Example\.com>/);
    assert.doesNotMatch(result.stdout, /a long piped password/);
    assert.ok(await verifyPassword(await hashOf('Ops@Example.com'), 'a long piped password'), 'the trailing line break is not part of the password');
  });

  test('promotes an existing account', async () => {
    const member = await harness.context.models.User.create({ username: 'member', email: 'member@example.com', password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });

    const result = await runWaitlist(harness, ['create-admin', '--email', 'MEMBER@example.com', '--no-superuser'], { input: 'another long password' });

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Updated staff account member/);
    await member.reload();
    assert.equal(member.is_staff, true);
    assert.equal(member.is_superuser, false);
    assert.equal(await harness.context.models.User.count(), 1);
  });

  test('rejects a short password', async () => {
    const result = await runWaitlist(harness, ['create-admin', '--email', 'ops@example.com'], { input: 'short\n' });

    assert.equal(result.code, 2);
    assert.match(result.stderr, /at least 12 characters/);
    assert.equal(await harness.context.models.User.count(), 0);
  });

  test('rejects a bad email', async () => {
    const result = await runWaitlist(harness, ['create-admin', '--email', 'not-an-address'], { input: 'a long piped password' });

    assert.equal(result.code, 2);
    assert.match(result.stderr, /--email takes an email address such as ops@example\.com; got "not-an-address"/);
  });
});

describe('staff accounts', () => {
  test('generate a password when none is given', async () => {
    const result = await createOrPromoteStaff(harness.context, { email: 'new@example.com', superuser: true });

    assert.equal(result.created, true);
    assert.ok(result.generatedPassword);
    assert.ok(await verifyPassword(await hashOf('new@example.com'), result.generatedPassword));
  });

  test('keep an existing password unless given one', async () => {
    const first = await createOrPromoteStaff(harness.context, { email: 'keep@example.com', superuser: false });

    const second = await createOrPromoteStaff(harness.context, { email: 'keep@example.com', superuser: true });

    assert.equal(second.created, false);
    assert.equal(second.generatedPassword, undefined);
    assert.equal(second.passwordChanged, false);
    assert.ok(await verifyPassword(await hashOf('keep@example.com'), first.generatedPassword!));
  });

  test('reject a short password', async () => {
    await assert.rejects(createOrPromoteStaff(harness.context, { email: 'x@example.com', password: 'short', superuser: true }), StaffInputError);
  });

  test('log file never holds the password', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-log-'));
    const logFile = path.join(folder, 'waitlist.log');
    try {
      const result = await runWaitlist(harness, ['create-admin', '--email', 'logged@example.com'], { input: 'password kept out of logs', environment: { LOG_FILE: logFile } });

      assert.equal(result.code, 0, result.stderr);
      const log = readFileSync(logFile, 'utf8');
      assert.match(log, /staff account created/);
      assert.doesNotMatch(log + result.stdout + result.stderr, /password kept out of logs/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
