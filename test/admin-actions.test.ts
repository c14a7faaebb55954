import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Express } from 'express';
import { verifyPassword } from '../src/passwords.ts';
import { setPaused } from '../src/processing-pause.ts';
import { loadDashboard } from '../admin/dashboard.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { appFor, makeStaff, resetAdminTables, signIn, type AdminClient } from './support/admin.ts';
import { makeSubscriber } from './support/factories.ts';
import type { User } from '../models/index.ts';

let harness: TestHarness;
let app: Express;
let client: AdminClient;
let staff: User;

const SUBSCRIBERS = '/admin/api/resources/waitlist_subscribers';
const recordAction = (id: string, action: string) => `${SUBSCRIBERS}/records/${id}/${action}`;

before(async () => {
  harness = await createHarness();
  app = appFor(harness);
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetAdminTables(harness);
  staff = await makeStaff(harness);
  client = await signIn(app, staff);
});

function passwordIn(text: string): string {
  const match = /Temporary password: (\S+)/.exec(text);
  assert.ok(match, 'the email names a temporary password');
  return match[1];
}

async function storedHash(userId: string): Promise<string> {
  const user = await harness.context.models.User.scope('withPassword').findByPk(userId);
  return user!.password_hash!;
}

/** Processes a subscriber through the panel and returns it with its user and emailed password. */
async function processedSubscriber(email: string) {
  const subscriber = await makeSubscriber(harness.context, { email });
  const response = await client.post(recordAction(subscriber.id, 'processNow'));
  assert.equal(response.body.notice.type, 'success');
  await subscriber.reload();
  return { subscriber, userId: subscriber.user_id!, password: passwordIn(harness.smtp.messagesTo(email).at(-1)!.parsed.text!) };
}

describe('process now', () => {
  test('creates the account and reports it', async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'ada@example.com' });

    const response = await client.post(recordAction(subscriber.id, 'processNow'));

    assert.equal(response.status, 200);
    assert.equal(response.body.notice.type, 'success');
    assert.match(response.body.notice.message, /Account ada created and the welcome email accepted/);
    assert.equal(response.body.record.params.is_processed, true);
    assert.ok(response.body.record.params.user_id);
    assert.equal(harness.smtp.messagesTo('ada@example.com').length, 1);

    const audit = await harness.context.models.AdminAuditEntry.findOne({ where: { action: 'processNow' } });
    assert.equal(audit?.staff_email, staff.email);
    assert.equal(audit?.resource, 'waitlist_subscribers');
    assert.equal(audit?.record_ids, subscriber.id);
    assert.match(audit?.details ?? '', /Account ada created/);
  });

  test('links an existing account', async () => {
    await harness.context.models.User.create({ username: 'grace', email: 'grace@example.com', password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
    const subscriber = await makeSubscriber(harness.context, { email: 'Grace@Example.com' });

    const response = await client.get(recordAction(subscriber.id, 'processNow'));

    assert.match(response.body.notice.message, /existed already: it is now linked, and no email was sent/);
    assert.equal(harness.smtp.received.length, 0);
  });

  test('reports a rejected email', async () => {
    harness.smtp.recipientReply = () => ({ code: 550, message: 'mailbox unavailable' });
    const subscriber = await makeSubscriber(harness.context, { email: 'gone@example.com' });

    const response = await client.post(recordAction(subscriber.id, 'processNow'));

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /Processing failed \(smtp_rejected\).*gave up.*Retry/);
    assert.ok(response.body.record.params.gave_up_at);
    assert.equal(await harness.context.models.User.count({ where: { email: 'gone@example.com' } }), 0);
  });

  test('refuses a processed subscriber', async () => {
    const { subscriber } = await processedSubscriber('twice@example.com');

    const response = await client.post(recordAction(subscriber.id, 'processNow'));

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /already processed/);
    assert.equal(harness.smtp.messagesTo('twice@example.com').length, 1);
  });

  test('works while processing is paused', async () => {
    await setPaused(harness.context, true, 'test');
    const subscriber = await makeSubscriber(harness.context);

    const response = await client.post(recordAction(subscriber.id, 'processNow'));

    assert.equal(response.body.notice.type, 'success', 'an operator may process one subscriber by hand while runs are paused');
  });
});

describe('re-send welcome email', () => {
  test('replaces the password once accepted', async () => {
    const { subscriber, userId, password: first } = await processedSubscriber('resend@example.com');

    const response = await client.post(recordAction(subscriber.id, 'resendWelcome'));

    assert.equal(response.body.notice.type, 'success');
    assert.match(response.body.notice.message, /accepted by the mail server for resend@example\.com/);
    const emails = harness.smtp.messagesTo('resend@example.com');
    assert.equal(emails.length, 2);
    const second = passwordIn(emails[1].parsed.text!);
    assert.notEqual(second, first);
    assert.ok(await verifyPassword(await storedHash(userId), second), 'the new password works');
    assert.equal(await verifyPassword(await storedHash(userId), first), false, 'the old password no longer works');

    const delivery = await harness.context.models.EmailDelivery.findOne({ where: { kind: 'resend' } });
    assert.equal(delivery?.status, 'accepted');
    assert.equal(delivery?.user_id, userId);
  });

  test('keeps the old password when sending fails', async () => {
    const { subscriber, userId, password } = await processedSubscriber('kept@example.com');
    const before = await harness.context.models.User.findByPk(userId);
    await harness.smtp.mode('refuse');

    const response = await client.post(recordAction(subscriber.id, 'resendWelcome'));

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /was not accepted \(smtp_unavailable\).*The previous password or link still works/);
    assert.ok(await verifyPassword(await storedHash(userId), password));
    const after = await harness.context.models.User.findByPk(userId);
    assert.equal(after!.password_expires_at!.getTime(), before!.password_expires_at!.getTime(), 'the expiry is unchanged');
    const delivery = await harness.context.models.EmailDelivery.findOne({ where: { kind: 'resend' } });
    assert.equal(delivery?.status, 'failed');
    assert.equal(delivery?.error_code, 'smtp_unavailable');
  });

  test('needs a linked account', async () => {
    const subscriber = await makeSubscriber(harness.context);

    const response = await client.post(recordAction(subscriber.id, 'resendWelcome'));

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /no linked account/);
    assert.equal(harness.smtp.received.length, 0);
  });
});

describe('reset password action', () => {
  test('emails new credentials', async () => {
    const { userId, password } = await processedSubscriber('reset@example.com');

    const response = await client.post(`/admin/api/resources/users/records/${userId}/resetPassword`);

    assert.equal(response.body.notice.type, 'success');
    const newPassword = passwordIn(harness.smtp.messagesTo('reset@example.com')[1].parsed.text!);
    assert.ok(await verifyPassword(await storedHash(userId), newPassword));
    assert.equal(await verifyPassword(await storedHash(userId), password), false);
    assert.ok(await harness.context.models.AdminAuditEntry.findOne({ where: { action: 'resetPassword', resource: 'users', record_ids: userId } }));
  });

  test('explains accounts without a subscriber', async () => {
    const response = await client.post(`/admin/api/resources/users/records/${staff.id}/resetPassword`);

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /did not come from the waitlist/);
    assert.ok(await verifyPassword(await storedHash(staff.id), 'correct horse battery staple'));
  });
});

describe('bulk and resource actions', () => {
  test('mark processed and unprocessed', async () => {
    const first = await makeSubscriber(harness.context);
    const second = await makeSubscriber(harness.context);
    await second.update({ is_processed: true, processed_at: new Date('2026-01-02T00:00:00Z') });
    const ids = `${first.id},${second.id}`;

    const marked = await client.post(`${SUBSCRIBERS}/bulk/markProcessed?recordIds=${ids}`);
    assert.equal(marked.body.notice.message, '1 subscriber(s) marked as processed; 1 already were.');
    assert.equal(marked.body.records.length, 2);
    await first.reload();
    assert.equal(first.is_processed, true);
    assert.equal(first.processed_at!.getTime(), harness.clock.now.getTime());

    const unmarked = await client.post(`${SUBSCRIBERS}/bulk/markUnprocessed?recordIds=${ids}`);
    assert.equal(unmarked.body.notice.message, '2 subscriber(s) marked as unprocessed.');
    await second.reload();
    assert.equal(second.is_processed, false);
    assert.equal(second.processed_at, null);
  });

  test('process selected runs the processor on them', async () => {
    const chosen = await makeSubscriber(harness.context, { email: 'chosen@example.com' });
    const done = await makeSubscriber(harness.context, { email: 'done@example.com' });
    await done.update({ is_processed: true });
    await makeSubscriber(harness.context, { email: 'other@example.com' });

    const response = await client.post(`${SUBSCRIBERS}/bulk/processSelected?recordIds=${chosen.id},${done.id}`);

    assert.equal(response.body.notice.message, '1 account(s) created, 0 existing account(s) linked, 0 failed, 1 skipped (already processed or being processed elsewhere).');
    assert.equal(harness.smtp.received.length, 1);
    assert.equal(harness.smtp.messagesTo('chosen@example.com').length, 1);
    const run = await harness.context.models.ProcessorRun.findOne();
    assert.equal(run?.trigger, 'admin');
  });

  test('process pending runs one batch', async () => {
    for (let index = 0; index < 12; index++) await makeSubscriber(harness.context);

    const response = await client.post(`${SUBSCRIBERS}/actions/processPending`);

    assert.equal(response.body.notice.type, 'success');
    assert.match(response.body.notice.message, /^10 account\(s\) created/);
    assert.equal(response.body.redirectUrl, '/admin/resources/waitlist_subscribers');
    assert.equal(await harness.context.models.WaitlistSubscriber.count({ where: { is_processed: false } }), 2);
  });

  test('process pending obeys the pause', async () => {
    await makeSubscriber(harness.context);
    await setPaused(harness.context, true, staff.email);

    const response = await client.post(`${SUBSCRIBERS}/actions/processPending`);

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /Processing is paused/);
    assert.equal(await harness.context.models.WaitlistSubscriber.count({ where: { is_processed: true } }), 0);
    assert.equal(await harness.context.models.ProcessorRun.count(), 0);
  });

  test('retry clears the give-up state', async () => {
    harness.smtp.recipientReply = () => ({ code: 550, message: 'mailbox unavailable' });
    const subscriber = await makeSubscriber(harness.context, { email: 'again@example.com' });
    await client.post(recordAction(subscriber.id, 'processNow'));
    harness.smtp.recipientReply = () => undefined;

    const response = await client.post(recordAction(subscriber.id, 'retry'));

    assert.equal(response.body.notice.type, 'success');
    assert.equal(response.body.record.params.gave_up_at, null);
    assert.equal(response.body.record.params.attempts, 0);
    const summary = await runBatch(harness.context, { batchSize: 10, trigger: 'test' });
    assert.equal(summary.processed, 1, 'the next run takes the subscriber');
  });

  test('retry refuses a subscriber that did not give up', async () => {
    const subscriber = await makeSubscriber(harness.context);

    const response = await client.post(recordAction(subscriber.id, 'retry'));

    assert.equal(response.body.notice.type, 'error');
    assert.match(response.body.notice.message, /Nothing to retry/);
  });

  test('retry works on a selection', async () => {
    const stuck = await makeSubscriber(harness.context);
    await stuck.update({ gave_up_at: new Date(), attempts: 5, last_error_code: 'smtp_unavailable' });
    const fine = await makeSubscriber(harness.context);

    const response = await client.post(`${SUBSCRIBERS}/bulk/retrySelected?recordIds=${stuck.id},${fine.id}`);

    assert.equal(response.body.notice.message, 'Retry scheduled for 1 subscriber(s): the next processor run takes them. 1 did not need a retry.');
    await stuck.reload();
    assert.equal(stuck.gave_up_at, null);
    assert.equal(stuck.attempts, 0);
  });
});

describe('pause switch', () => {
  test('pauses and resumes with who and when', async () => {
    const paused = await client.post('/admin/api/resources/processor_settings/actions/pauseProcessing');

    assert.match(paused.body.notice.message, /Processing paused/);
    const settings = await harness.context.models.ProcessorSetting.findByPk(1);
    assert.equal(settings?.paused, true);
    assert.equal(settings?.paused_by, staff.email);
    assert.equal(settings?.paused_at?.getTime(), harness.clock.now.getTime());

    const dashboard = await client.get('/admin/api/dashboard');
    assert.equal(dashboard.body.pause.paused, true);
    assert.equal(dashboard.body.pause.pausedBy, staff.email);

    await client.post('/admin/api/resources/processor_settings/actions/resumeProcessing');
    await settings!.reload();
    assert.equal(settings!.paused, false);
    assert.equal(await harness.context.models.AdminAuditEntry.count({ where: { resource: 'processor_settings' } }), 2);
  });
});

describe('dashboard', () => {
  test('counts, series and last run', async () => {
    await makeSubscriber(harness.context, { source: 'referral', created_at: new Date('2026-02-27T10:00:00Z') });
    await makeSubscriber(harness.context, { source: 'referral', created_at: new Date('2026-02-27T11:00:00Z') });
    await makeSubscriber(harness.context, { source: 'newsletter', created_at: new Date('2026-03-01T08:00:00Z') });
    const stuck = await makeSubscriber(harness.context, { created_at: new Date('2025-01-01T00:00:00Z') });
    await stuck.update({ gave_up_at: new Date() });
    await runBatch(harness.context, { batchSize: 1, trigger: 'schedule' });

    const { body } = await client.get('/admin/api/dashboard');

    assert.deepEqual(body.counts, { pending: 2, processed: 1, needsAttention: 1, usersCreated: 1, estimated: false });
    assert.equal(body.days.length, 30);
    assert.equal(body.days.at(-1), '2026-03-01');
    assert.deepEqual(
      body.signupsByDay.filter((item: { day: string }) => item.day >= '2026-02-27'),
      [
        { day: '2026-02-27', source: 'referral', count: 2 },
        { day: '2026-03-01', source: 'newsletter', count: 1 },
      ],
    );
    assert.equal(body.lastRun.processed, 1);
    assert.equal(body.lastRun.trigger, 'schedule');
    assert.equal(body.pause.paused, false);
    assert.ok(body.nextRun.at || body.nextRun.note, 'the next run is named');
  });
});

describe('dashboard counts above the exact-count limit', () => {
  test('estimates all but needs attention', async () => {
    const subscribers = [];
    for (let index = 0; index < 40; index++) subscribers.push(await makeSubscriber(harness.context));
    for (const stuck of subscribers.slice(0, 4)) await stuck.update({ gave_up_at: new Date() });
    await runBatch(harness.context, { batchSize: 10, trigger: 'admin' });
    await harness.context.database.sequelize.query('ANALYZE waitlist_subscribers, email_deliveries');

    const { config } = harness.context;
    const { counts } = await loadDashboard({ ...harness.context, config: { ...config, admin: { ...config.admin, exactCountLimit: 0 } } });

    assert.equal(counts.estimated, true);
    assert.equal(counts.needsAttention, 4);
    // Estimates multiply the selectivity of each condition, so they may be off by a few rows of these 40.
    assert.ok(Math.abs(counts.pending - 26) <= 4, `pending estimate ${counts.pending}, actual 26`);
    assert.ok(Math.abs(counts.processed - 10) <= 4, `processed estimate ${counts.processed}, actual 10`);
    assert.ok(Math.abs(counts.usersCreated - 10) <= 4, `users created estimate ${counts.usersCreated}, actual 10`);
  });
});

describe('password hashes', () => {
  test('appear in no admin response', async () => {
    const { subscriber, userId } = await processedSubscriber('hash@example.com');
    await client.post(recordAction(subscriber.id, 'resendWelcome'));

    // Every call goes through the client, which fails on a hash or the column name in any body.
    const paths = [
      '/admin',
      '/admin/api/resources/users/actions/list',
      `/admin/api/resources/users/records/${userId}/show`,
      `/admin/api/resources/users/records/${userId}/edit`,
      `/admin/api/resources/users/records/${staff.id}/show`,
      '/admin/api/resources/users/search/hash',
      '/admin/api/resources/users/actions/search/hash',
      '/admin/api/resources/users/actions/list?filters.search=hash',
      `${SUBSCRIBERS}/actions/list`,
      `${SUBSCRIBERS}/records/${subscriber.id}/show`,
      '/admin/api/resources/email_deliveries/actions/list',
      '/admin/api/resources/admin_audit_entries/actions/list',
      '/admin/api/dashboard',
    ];
    for (const path of paths) {
      const response = await client.get(path);
      assert.ok(response.status < 400, `${path} answers ${response.status}`);
    }

    const subscribers = await client.get(`${SUBSCRIBERS}/actions/list`);
    assert.equal(subscribers.body.records[0].populated.user_id.params.username, 'hash', 'the populated user is there, without its hash');
    const edited = await client.post(`/admin/api/resources/users/records/${userId}/edit`, { first_name: 'Hashless' });
    assert.equal(edited.body.record.params.first_name, 'Hashless');
  });
});

describe('import and personal-data actions', () => {
  test('import through the panel is audited', async () => {
    const response = await client.agent
      .post(`${SUBSCRIBERS}/actions/importSubscribers`)
      .field('dryRun', 'false')
      .attach('file', Buffer.from('email,name\nimported@example.com,Imported Person\n'), { filename: 'people.csv', contentType: 'text/csv' });

    assert.equal(response.status, 200);
    assert.equal(response.body.notice.type, 'success', JSON.stringify(response.body.notice));
    assert.equal(await harness.context.models.WaitlistSubscriber.count({ where: { email: 'imported@example.com' } }), 1);
    const audit = await harness.context.models.AdminAuditEntry.findOne({ where: { action: 'importSubscribers' } });
    assert.equal(audit?.staff_email, staff.email);
  });

  test('only superusers delete personal data', async () => {
    const subscriber = await makeSubscriber(harness.context);
    const plain = await makeStaff(harness, { is_superuser: false });
    const path = recordAction(subscriber.id, 'deletePersonalData');

    const refused = await (await signIn(app, plain)).post(path);
    assert.equal(refused.body.notice.type, 'error');
    assert.equal(await harness.context.models.WaitlistSubscriber.count(), 1);

    const accepted = await client.post(path);
    assert.equal(accepted.body.notice.type, 'success', JSON.stringify(accepted.body.notice));
    assert.equal(await harness.context.models.WaitlistSubscriber.count(), 0);
    assert.ok(await harness.context.models.AdminAuditEntry.findOne({ where: { action: 'deletePersonalData', record_ids: subscriber.id } }));
  });
});
