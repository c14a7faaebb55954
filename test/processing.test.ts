import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { verifyPassword } from '../src/passwords.ts';
import { runBatch } from '../src/run-batch.ts';
import { processNextSubscriber } from '../src/process-subscriber.ts';
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
  const { sequelize } = harness.context.database;
  await sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs RESTART IDENTITY CASCADE');
  harness.smtp.received.length = 0;
  harness.smtp.recipientReply = () => undefined;
  harness.smtp.dataReply = () => undefined;
  await harness.smtp.mode('accept');
});

function passwordFrom(text: string): string {
  const match = /Temporary password: (\S+)/.exec(text);
  assert.ok(match, 'the text part names the temporary password');
  return match[1];
}

const run = (batchSize = 10) => runBatch(harness.context, { batchSize, trigger: 'test' });

describe('processing a subscriber', () => {
  test('creates account and emails working credentials', async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'Ada.Lovelace@Example.com', name: 'Ada King Lovelace', phone_number: '+442079460958', source: 'referral' });

    const summary = await run();
    assert.equal(summary.processed, 1);

    const user = await harness.context.models.User.scope('withPassword').findOne({ where: { email: 'Ada.Lovelace@example.com' } });
    assert.ok(user);
    assert.equal(user.username, 'ada.lovelace');
    assert.equal(user.first_name, 'Ada');
    assert.equal(user.last_name, 'King Lovelace');
    assert.equal(user.phone_number, '+442079460958');
    assert.equal(user.must_change_password, true);
    assert.equal(user.is_active, true);
    assert.equal(user.is_verified, false);
    assert.match(user.password_hash!, /^\$argon2id\$/);
    const expectedExpiry = harness.clock.now.getTime() + 168 * 3600 * 1000;
    assert.equal(user.password_expires_at!.getTime(), expectedExpiry);

    const [email] = harness.smtp.messagesTo('Ada.Lovelace@Example.com');
    assert.ok(email, 'one welcome email arrived');
    assert.equal(email.parsed.subject, 'Welcome to Acme Beta - your account is ready!');
    assert.equal((email.parsed.to as { value: Array<{ name: string; address: string }> }).value[0].name, 'Ada King Lovelace');
    assert.match(email.parsed.text!, /Username: ada\.lovelace/);
    assert.match(email.parsed.text!, /http:\/\/127\.0\.0\.1:9\/auth\/login/);
    assert.match(email.parsed.text!, /Referral/);
    assert.match(String(email.parsed.html), /ada\.lovelace/);

    const password = passwordFrom(email.parsed.text!);
    assert.equal(password.length, 12);
    assert.ok(await verifyPassword(user.password_hash!, password), 'the emailed password verifies against the stored hash');
    assert.match(String(email.parsed.html), new RegExp(password.replace(/[$^*]/g, '\\$&').replace(/&/g, '&amp;')));

    await subscriber.reload();
    assert.equal(subscriber.is_processed, true);
    assert.equal(subscriber.user_id, user.id);
    assert.equal(subscriber.processed_at!.getTime(), harness.clock.now.getTime());

    const deliveries = await harness.context.models.EmailDelivery.findAll();
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0].status, 'accepted');
    assert.equal(deliveries[0].kind, 'welcome');
    assert.equal(deliveries[0].user_id, user.id);
    assert.ok(deliveries[0].message_id);
  });

  test('links existing account ignoring case', async () => {
    const existing = await harness.context.models.User.create({ username: 'grace', email: 'grace@example.com', password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
    const subscriber = await makeSubscriber(harness.context, { email: 'GRACE@Example.COM' });

    const summary = await run();

    assert.equal(summary.existing, 1);
    assert.equal(summary.processed, 0);
    assert.equal(harness.smtp.received.length, 0, 'no credentials are sent to an existing account');
    await subscriber.reload();
    assert.equal(subscriber.is_processed, true);
    assert.equal(subscriber.user_id, existing.id);
    assert.equal(await harness.context.models.User.count(), 1);
    assert.ok(harness.logs.some((line) => line.outcome === 'linked' && line.subscriberId === subscriber.id));
  });

  test('numbers colliding usernames', async () => {
    await harness.context.models.User.create({ username: 'sam', email: 'sam@old.example', password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
    await makeSubscriber(harness.context, { email: 'sam@example.com' });
    await makeSubscriber(harness.context, { email: 'Sam@example.org' });
    await makeSubscriber(harness.context, { email: 'sam@example.net' });

    await run();

    const usernames = (await harness.context.models.User.findAll({ order: [['id', 'ASC']] })).map((user) => user.username);
    assert.deepEqual(usernames, ['sam', 'sam2', 'sam3', 'sam4']);
  });

  test('derives usernames from odd local parts', async () => {
    const cases = [
      ['"john+tag"@example.com', 'johntag'],
      ['ßüñ@example.com', 'user'],
      ["O'Brien.Mc_Kay-Jr@example.com", 'obrien.mc_kay-jr'],
      ['Mary.Jane+news@example.com', 'mary.janenews'],
    ];
    for (const [email] of cases) await makeSubscriber(harness.context, { email });

    await run();

    for (const [email, expected] of cases) {
      const subscriber = await harness.context.models.WaitlistSubscriber.findOne({ where: { email }, include: ['user'] });
      assert.equal((subscriber as unknown as { user: { username: string } }).user.username, expected, email);
    }
  });

  test('escapes HTML and line breaks in names', async () => {
    const name = '<script>alert(1)</script> Eve\r\nBcc: victim@example.com';
    // The input rules refuse such a name now, but rows stored before them may still hold one.
    await harness.context.models.WaitlistSubscriber.create({ email: 'eve@example.com', name, phone_number: null } as never, { validate: false });

    await run();

    assert.equal(harness.smtp.received.length, 1);
    const [email] = harness.smtp.received;
    assert.deepEqual(email.envelopeTo, ['eve@example.com'], 'no header injection adds a recipient');
    const headers = email.raw.slice(0, email.raw.indexOf('\r\n\r\n'));
    assert.doesNotMatch(headers, /^Bcc:/im);
    assert.doesNotMatch(email.parsed.text!, /^Bcc:/m, 'the line break does not reach the text part either');
    assert.doesNotMatch(String(email.parsed.html), /<script>/);
    assert.match(String(email.parsed.html), /&lt;script&gt;/);
  });

  test('takes oldest subscribers first', async () => {
    const young = await makeSubscriber(harness.context, { created_at: new Date('2026-02-01T00:00:00Z') });
    const old = await makeSubscriber(harness.context, { created_at: new Date('2025-06-01T00:00:00Z') });
    const middle = await makeSubscriber(harness.context, { created_at: new Date('2025-12-01T00:00:00Z') });

    const summary = await runBatch({ ...harness.context, config: { ...harness.context.config, processor: { ...harness.context.config.processor, concurrency: 1 } } }, { batchSize: 2, trigger: 'test' });

    assert.deepEqual(summary.outcomes.map((outcome) => outcome.subscriberId), [old.id, middle.id]);
    await young.reload();
    assert.equal(young.is_processed, false);
  });
});

describe('processing failures', () => {
  test('smtp down leaves no user, then recovers once', async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'down@example.com' });
    await harness.smtp.mode('refuse');

    const failed = await run();

    assert.equal(failed.failed, 1);
    assert.equal(failed.stoppedBy, 'smtp_unavailable');
    assert.equal(await harness.context.models.User.count(), 0, 'no user is kept without its email');
    await subscriber.reload();
    assert.equal(subscriber.is_processed, false);
    assert.equal(subscriber.attempts, 1);
    assert.equal(subscriber.last_error_code, 'smtp_unavailable');
    assert.equal(subscriber.next_attempt_at!.getTime(), harness.clock.now.getTime() + 60_000);
    assert.equal(subscriber.gave_up_at, null);

    await harness.smtp.mode('accept');
    const early = await run();
    assert.equal(early.processed, 0, 'not retried before its next attempt time');

    harness.clock.advanceSeconds(60);
    const recovered = await run();
    assert.equal(recovered.processed, 1);
    assert.equal(await harness.context.models.User.count(), 1);
    assert.equal(harness.smtp.messagesTo('down@example.com').length, 1);
    const statuses = (await harness.context.models.EmailDelivery.findAll({ order: [['id', 'ASC']] })).map((delivery) => delivery.status);
    assert.deepEqual(statuses, ['failed', 'accepted']);
  });

  test('rejected recipient does not block younger ones', async () => {
    const rejected = await makeSubscriber(harness.context, { email: 'nobody@example.com' });
    const younger = await makeSubscriber(harness.context, { email: 'somebody@example.com' });
    harness.smtp.recipientReply = (address) => (address === 'nobody@example.com' ? { code: 550, message: 'No such user' } : undefined);

    const summary = await run();

    assert.equal(summary.failed, 1);
    assert.equal(summary.processed, 1);
    await rejected.reload();
    await younger.reload();
    assert.equal(younger.is_processed, true);
    assert.equal(rejected.is_processed, false);
    assert.equal(rejected.last_error_code, 'smtp_rejected');
    assert.ok(rejected.gave_up_at, 'a permanent rejection gives up at once');
    assert.equal(rejected.next_attempt_at, null);

    harness.clock.advanceSeconds(86_400);
    const later = await run();
    assert.equal(later.outcomes.length, 0, 'a subscriber that gave up is never retried automatically');
  });

  test('temporary replies back off then give up', async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'busy@example.com' });
    harness.smtp.dataReply = () => ({ code: 454, message: 'Temporary authentication failure' });
    const delays: number[] = [];

    for (let attempt = 1; attempt <= 5; attempt++) {
      await run();
      await subscriber.reload();
      if (subscriber.next_attempt_at) {
        delays.push((subscriber.next_attempt_at.getTime() - harness.clock.now.getTime()) / 1000);
        harness.clock.advanceSeconds(delays.at(-1)!);
      }
    }

    assert.deepEqual(delays, [60, 120, 240, 480]);
    assert.equal(subscriber.attempts, 5);
    assert.equal(subscriber.last_error_code, 'smtp_deferred');
    assert.ok(subscriber.gave_up_at, 'gives up after PROCESSOR_MAX_ATTEMPTS');
    assert.equal(await harness.context.models.User.count(), 0);
  });

  test('failing subscriber is tried once per run', async () => {
    const local = { ...harness.context, config: { ...harness.context.config, processor: { ...harness.context.config.processor, retryBaseSeconds: 0 } } };
    await makeSubscriber(harness.context, { email: 'flaky@example.com' });
    harness.smtp.recipientReply = () => ({ code: 452, message: 'Mailbox full, try later' });

    const summary = await runBatch(local, { batchSize: 10, trigger: 'test' });

    assert.equal(summary.outcomes.length, 1);
    assert.equal(summary.failed, 1);
  });
});

describe('concurrent processors', () => {
  test('two processors create one user and email each', async () => {
    const count = 40;
    for (let index = 0; index < count; index++) await makeSubscriber(harness.context);

    const [first, second] = await Promise.all([run(count), run(count)]);

    assert.equal(first.processed + second.processed, count);
    assert.ok(first.processed > 0, 'the first processor took part');
    assert.ok(second.processed > 0, 'the second processor took part');
    assert.equal(await harness.context.models.User.count(), count);
    assert.equal(harness.smtp.received.length, count);
    const recipients = new Set(harness.smtp.received.flatMap((email) => email.envelopeTo));
    assert.equal(recipients.size, count, 'nobody received two welcome emails');
  });

  test('racing processors keep usernames unique', async () => {
    const count = 12;
    for (let index = 0; index < count; index++) await makeSubscriber(harness.context, { email: `sam@host${index}.example` });

    await Promise.all([run(count), run(count), run(count)]);

    const usernames = (await harness.context.models.User.findAll()).map((user) => user.username).sort();
    const expected = ['sam', ...Array.from({ length: count - 1 }, (_, index) => `sam${index + 2}`)].sort();
    assert.deepEqual(usernames, expected);
    assert.equal(harness.smtp.received.length, count);
  });

  test('processing one subscriber skips a locked one', async () => {
    const subscriber = await makeSubscriber(harness.context);
    const { sequelize } = harness.context.database;
    const holder = await sequelize.transaction();
    await sequelize.query('SELECT id FROM waitlist_subscribers WHERE id = $1 FOR UPDATE', { bind: [subscriber.id], transaction: holder });

    const outcome = await processNextSubscriber(harness.context);

    await holder.rollback();
    assert.equal(outcome, undefined);
  });
});

describe('stopping', () => {
  test('abort lets in-flight subscribers finish', async () => {
    for (let index = 0; index < 8; index++) await makeSubscriber(harness.context);
    harness.smtp.delayMs = 200;
    const controller = new AbortController();

    const running = runBatch(harness.context, { batchSize: 8, trigger: 'test', signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    const summary = await running;
    harness.smtp.delayMs = 0;

    assert.ok(summary.processed > 0, 'the subscribers already claimed finished');
    assert.ok(summary.processed < 8, 'no new subscriber was claimed after the stop');
    assert.equal(await harness.context.models.User.count(), summary.processed, 'nothing is half done');
    assert.equal(harness.smtp.received.length, summary.processed);
  });
});

describe('secrets', () => {
  test('no plaintext password in logs or tables', async () => {
    await makeSubscriber(harness.context, { email: 'secret@example.com' });
    await makeSubscriber(harness.context, { email: 'rejected@example.com' });
    harness.smtp.recipientReply = (address) => (address === 'rejected@example.com' ? { code: 550, message: 'rejected' } : undefined);

    await run();
    const password = passwordFrom(harness.smtp.messagesTo('secret@example.com')[0].parsed.text!);

    assert.ok(!JSON.stringify(harness.logs).includes(password), 'the log lines do not contain the password');
    const [rows] = await harness.context.database.sequelize.query(
      "SELECT row_to_json(t)::text AS row FROM (SELECT * FROM users) t UNION ALL SELECT row_to_json(d)::text FROM email_deliveries d UNION ALL SELECT row_to_json(s)::text FROM waitlist_subscribers s",
    );
    for (const { row } of rows as Array<{ row: string }>) assert.ok(!row.includes(password), 'no row contains the password');
  });
});
