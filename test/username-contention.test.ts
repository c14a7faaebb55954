import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { QueryTypes } from 'sequelize';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';

let harness: TestHarness;

before(async () => {
  harness = await createHarness({ PROCESSOR_CONCURRENCY: '8', DATABASE_POOL_MAX: '40', EMAIL_TIMEOUT_SECONDS: '30' });
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await harness.smtp.reset();
});

describe('username contention', () => {
  test('many processors on one base', async () => {
    const count = 48;
    await harness.context.database.sequelize.query(
      `INSERT INTO waitlist_subscribers (email, name, first_name, created_at)
       SELECT 'sam@example-' || n || '.com', 'Sam', 'Sam', timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
       FROM generate_series(1, $1) AS n`,
      { bind: [count] },
    );
    // Every processor holds its new username until the slow SMTP server accepts the email, so 24 transactions
    // want the next "sam" number at once.
    harness.smtp.delayMs = 50;

    const runs = await Promise.all(Array.from({ length: 3 }, () => runBatch(harness.context, { batchSize: count, trigger: 'test' })));

    const failures = runs.flatMap((run) => run.outcomes).filter((outcome) => outcome.result === 'failed');
    assert.deepEqual(failures, [], 'no subscriber failed for want of a username');
    const rows = await harness.context.database.sequelize.query<{ username: string }>('SELECT username FROM users', { type: QueryTypes.SELECT });
    assert.equal(rows.length, count);
    assert.equal(new Set(rows.map((row) => row.username)).size, count);
    assert.ok(rows.every((row) => /^sam[0-9]*$/.test(row.username)), 'every username is "sam" with a number');
  });

  test('name in creation skipped at once', async () => {
    await makeSubscriber(harness.context, { email: 'kim@example-1.com' });
    await makeSubscriber(harness.context, { email: 'kim@example-2.com' });

    // The first email to arrive is held until the second arrives. Had the second processor waited for the first
    // one's username, the second email could only come after the first was accepted, and the hold would time out.
    const replied: string[] = [];
    let arrived = 0;
    let endHold: () => void = () => undefined;
    const holdEnded = new Promise<void>((resolve) => (endHold = resolve));
    const holdLimit = setTimeout(() => endHold(), 20_000);
    harness.smtp.beforeReply = async (envelopeTo) => {
      arrived++;
      if (arrived === 1) await holdEnded;
      else endHold();
      replied.push(envelopeTo[0]);
    };

    const run = await runBatch(harness.context, { batchSize: 2, trigger: 'test' }).finally(() => clearTimeout(holdLimit));

    assert.deepEqual(run.outcomes.map((outcome) => outcome.result), ['created', 'created']);
    assert.equal(replied.length, 2);
    const heldRecipient = replied[1];
    const usernames = await harness.context.database.sequelize.query<{ email: string; username: string }>(
      "SELECT email, username FROM users WHERE email LIKE 'kim@%' ORDER BY username",
      { type: QueryTypes.SELECT },
    );
    assert.deepEqual(usernames.map((row) => row.username), ['kim', 'kim2']);
    assert.equal(usernames[0].email, heldRecipient, 'the held email is the one that took the bare name, and the other did not wait for it');
  });
});
