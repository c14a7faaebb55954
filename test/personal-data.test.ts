import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ValidationError } from 'sequelize';
import { deletePersonalData, exportPersonalData, PersonalDataError } from '../src/personal-data.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';

let harness: TestHarness;

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await harness.context.database.sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs, http_sessions RESTART IDENTITY CASCADE');
});

/** Gives the account a sign-in session and a reset link, as the sign-in pages would. */
async function addSessionAndLink(userId: string) {
  const { sequelize } = harness.context.database;
  await sequelize.query("INSERT INTO http_sessions (sid, sess, expire) VALUES ('sid-1', $1, now() + interval '1 hour')", { bind: [JSON.stringify({ userId })] });
  await harness.context.models.PasswordToken.create({ user_id: userId, purpose: 'reset_password', token_hash: 'a'.repeat(64), expires_at: new Date('2030-01-01T00:00:00Z'), used_at: null, revoked_at: null });
}

const count = async (table: string) => {
  const [rows] = await harness.context.database.sequelize.query(`SELECT count(*)::int AS count FROM ${table}`);
  return (rows as Array<{ count: number }>)[0].count;
};

/** Adds and processes a subscriber (account and accepted welcome email), plus an unrelated one. */
async function processedPerson() {
  const subscriber = await makeSubscriber(harness.context, { email: 'ada@example.com', name: 'Ada Lovelace', phone_number: '+442079460958' });
  await makeSubscriber(harness.context, { email: 'bystander@example.com' });
  await runBatch(harness.context, { batchSize: 10, trigger: 'test' });
  await subscriber.reload();
  assert.ok(subscriber.user_id, 'processing linked an account');
  return subscriber;
}

describe('exportPersonalData', () => {
  test('collects subscriber, account and deliveries', async () => {
    const subscriber = await processedPerson();
    await addSessionAndLink(subscriber.user_id!);

    const report = await exportPersonalData(harness.context, { email: '  ADA@Example.com ' });

    assert.deepEqual(report.emails, ['ada@example.com']);
    assert.equal(report.subscribers.length, 1);
    assert.equal(report.subscribers[0].phone_number, '+442079460958');
    assert.equal(report.users.length, 1);
    assert.equal(report.users[0].id, subscriber.user_id);
    assert.equal(report.email_deliveries.length, 1);
    assert.equal(report.email_deliveries[0].recipient, 'ada@example.com');
    assert.equal(report.password_tokens.length, 1);
    assert.equal(report.password_tokens[0].purpose, 'reset_password');
    const json = JSON.stringify(report);
    assert.doesNotMatch(json, /password_hash|\$argon2/, 'no password hash leaves the database');
    assert.doesNotMatch(json, /token_hash|aaaaaaaa/, 'no token hash leaves the database');
    assert.doesNotMatch(json, /bystander/);
  });

  test('finds by subscriber id', async () => {
    const subscriber = await processedPerson();

    const report = await exportPersonalData(harness.context, { subscriberId: subscriber.id });

    assert.equal(report.subscribers[0].email, 'ada@example.com');
    assert.equal(report.users.length, 1);
  });

  test('unknown person is an error', async () => {
    await assert.rejects(exportPersonalData(harness.context, { email: 'nobody@example.com' }), (error: Error) => {
      assert.ok(error instanceof PersonalDataError);
      assert.equal(error.code, 'person_not_found');
      return true;
    });
  });
});

describe('deletePersonalData', () => {
  test('deletes subscriber and deliveries, keeps account', async () => {
    const subscriber = await processedPerson();

    const summary = await deletePersonalData(harness.context, { email: 'Ada@example.com' });

    assert.deepEqual(summary.subscriberIds, [subscriber.id]);
    assert.equal(summary.deliveries, 1);
    assert.deepEqual(summary.keptUserIds, [subscriber.user_id]);
    assert.equal(await count('waitlist_subscribers'), 1, 'only the bystander is left');
    assert.equal(await count("email_deliveries WHERE recipient = 'ada@example.com'"), 0);
    assert.equal(await count('users'), 2, 'the account stays without --with-account');
    assert.ok(harness.logs.some((line) => line.msg === 'personal data deleted' && !JSON.stringify(line).includes('ada@example.com')), 'the log line names ids, not the address');
  });

  test('with account deletes the account too', async () => {
    const subscriber = await processedPerson();
    await addSessionAndLink(subscriber.user_id!);

    const summary = await deletePersonalData(harness.context, { email: 'ada@example.com' }, { withAccount: true });

    assert.equal(summary.deletedUserIds.length, 1);
    assert.equal(await count("users WHERE email = 'ada@example.com'"), 0);
    assert.equal(await count('users'), 1);
    assert.equal(await count('email_deliveries'), 1, "the bystander's delivery stays");
    assert.equal(await count('http_sessions'), 0, "the account's sign-in sessions end");
    assert.equal(await count('password_tokens'), 0, "the account's password links go with it");
  });

  test('dry run deletes nothing', async () => {
    await processedPerson();

    const summary = await deletePersonalData(harness.context, { email: 'ada@example.com' }, { withAccount: true, dryRun: true });

    assert.equal(summary.subscriberIds.length, 1);
    assert.equal(summary.deliveries, 1);
    assert.equal(summary.deletedUserIds.length, 1);
    assert.equal(await count('waitlist_subscribers'), 2);
    assert.equal(await count('users'), 2);
  });

  test('refuses staff accounts', async () => {
    await harness.context.models.User.create({ username: 'boss', email: 'boss@example.com', is_staff: true, password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
    await makeSubscriber(harness.context, { email: 'boss@example.com' });

    await assert.rejects(deletePersonalData(harness.context, { email: 'boss@example.com' }, { withAccount: true }), /staff account/);
    assert.equal(await count('waitlist_subscribers'), 1, 'nothing is deleted when the request is refused');

    const summary = await deletePersonalData(harness.context, { email: 'boss@example.com' });
    assert.equal(summary.keptUserIds.length, 1);
  });
});

describe('WaitlistSubscriber model rules', () => {
  test('normalises like the API', async () => {
    const subscriber = await harness.context.models.WaitlistSubscriber.create({
      email: ' Grace@BÜCHER.Example ',
      name: '  Grace Hopper ',
      phone_number: '+1 (201) 555-0123',
      source: 'Social media',
    } as never);

    assert.equal(subscriber.email, 'Grace@xn--bcher-kva.example');
    assert.equal(subscriber.name, 'Grace Hopper');
    assert.equal(subscriber.phone_number, '+12015550123');
    assert.equal(subscriber.source, 'social_media');
    assert.equal(subscriber.last_name, 'Hopper');
  });

  test('gives field messages on create and update', async () => {
    await assert.rejects(
      harness.context.models.WaitlistSubscriber.create({ email: 'nope', name: 'a\tb', phone_number: '123', source: 'tv' } as never),
      (error: Error) => {
        assert.ok(error instanceof ValidationError);
        const byField = Object.fromEntries(error.errors.map((item) => [item.path, item.message]));
        assert.match(byField.email, /with an @ and a domain/);
        assert.match(byField.name, /control characters/);
        assert.match(byField.phone_number, /country code/);
        assert.match(byField.source, /Source must be one of/);
        return true;
      },
    );

    const subscriber = await makeSubscriber(harness.context, { email: 'edit@example.com' });
    await assert.rejects(subscriber.update({ name: 'x'.repeat(256) }), /at most 255 characters/);
    await assert.rejects(subscriber.update({ email: null as never }), /Enter an email address/);
  });
});
