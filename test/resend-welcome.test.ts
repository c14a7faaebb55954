import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { verifyPassword } from '../src/passwords.ts';
import { ResendError, resendWelcomeEmail } from '../src/resend-welcome.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { resetAdminTables } from './support/admin.ts';
import { makeSubscriber } from './support/factories.ts';

let harness: TestHarness;

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetAdminTables(harness);
  harness.smtp.delayMs = 0;
});

async function processedUserId(email: string): Promise<string> {
  const subscriber = await makeSubscriber(harness.context, { email });
  await runBatch(harness.context, { batchSize: 1, trigger: 'test' });
  await subscriber.reload();
  return subscriber.user_id!;
}

/** Resolves once a re-send holds its advisory lock, which it keeps while it sends; polls with a deadline. */
async function untilSending(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const [row] = await harness.context.database.sequelize.query<{ count: string }>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", { type: 'SELECT' as never });
    if (Number(row.count) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the re-send never took its lock');
}

describe('re-send welcome email', () => {
  test('refuses a second re-send at once', async () => {
    const userId = await processedUserId('twice@example.com');
    harness.smtp.delayMs = 500;

    const first = resendWelcomeEmail(harness.context, userId);
    await untilSending();
    await assert.rejects(resendWelcomeEmail(harness.context, userId), (error: ResendError) => error.code === 'resend_in_progress');

    assert.equal((await first).result, 'sent');
    assert.equal(harness.smtp.messagesTo('twice@example.com').length, 2, 'one welcome and one re-sent email');
  });

  test('sends a link in link mode', async () => {
    const userId = await processedUserId('linked@example.com');
    const password = /Temporary password: (\S+)/.exec(harness.smtp.messagesTo('linked@example.com')[0].parsed.text!)![1];
    const { config } = harness.context;
    const linkMode = { ...harness.context, config: { ...config, auth: { ...config.auth, welcomeCredential: 'link' as const } } };

    const outcome = await resendWelcomeEmail(linkMode, userId);

    assert.equal(outcome.result, 'sent');
    assert.equal(outcome.result === 'sent' && outcome.credential, 'link');
    assert.match(harness.smtp.messagesTo('linked@example.com')[1].parsed.text!, /\/auth\/set-password\?token=/);
    const user = await harness.context.models.User.scope('withPassword').findByPk(userId);
    assert.equal(user!.password_hash === null || !(await verifyPassword(user!.password_hash, password)), true, 'the emailed temporary password no longer works');
  });

  test('refuses an inactive account', async () => {
    const userId = await processedUserId('inactive@example.com');
    await harness.context.models.User.update({ is_active: false }, { where: { id: userId } });

    await assert.rejects(resendWelcomeEmail(harness.context, userId), (error: ResendError) => error.code === 'user_inactive');
    assert.equal(harness.smtp.messagesTo('inactive@example.com').length, 1);
  });

  test('refuses a missing account', async () => {
    await assert.rejects(resendWelcomeEmail(harness.context, '999999'), (error: ResendError) => error.code === 'user_not_found');
  });

  test('logs no password', async () => {
    const userId = await processedUserId('quiet@example.com');

    await resendWelcomeEmail(harness.context, userId);

    const emailed = /Temporary password: (\S+)/.exec(harness.smtp.messagesTo('quiet@example.com')[1].parsed.text!)![1];
    assert.ok(!JSON.stringify(harness.logs).includes(emailed));
    assert.ok(harness.logs.some((line) => line.outcome === 'resent' && line.userId === userId));
  });
});
