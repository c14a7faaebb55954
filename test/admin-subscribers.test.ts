import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Express } from 'express';
import { createHarness, type TestHarness } from './support/context.ts';
import { appFor, makeStaff, resetAdminTables, signIn, type AdminClient } from './support/admin.ts';
import { makeSubscriber } from './support/factories.ts';

let harness: TestHarness;
let app: Express;
let client: AdminClient;

const LIST = '/admin/api/resources/waitlist_subscribers/actions/list';

before(async () => {
  harness = await createHarness();
  app = appFor(harness);
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetAdminTables(harness);
  client = await signIn(app, await makeStaff(harness));
});

/** Emails of the subscribers the list returns for `query` (AdminJS's query string, filters included). */
async function listed(query: string): Promise<string[]> {
  const response = await client.get(`${LIST}?${query}`);
  assert.equal(response.status, 200, query);
  return response.body.records.map((record: { params: { email: string } }) => record.params.email);
}

describe('subscriber list', () => {
  test('shows 50 newest first', async () => {
    for (let index = 0; index < 55; index++) {
      await makeSubscriber(harness.context, { email: `p${index}@example.com`, created_at: new Date(Date.UTC(2026, 0, 1, 0, index)) });
    }

    const response = await client.get(LIST);

    assert.equal(response.body.meta.total, 55);
    assert.equal(response.body.records.length, 50);
    assert.equal(response.body.records[0].params.email, 'p54@example.com');
    assert.equal(response.body.records[49].params.email, 'p5@example.com');
  });

  test('sorts by a chosen column', async () => {
    await makeSubscriber(harness.context, { email: 'b@example.com' });
    await makeSubscriber(harness.context, { email: 'a@example.com' });
    await makeSubscriber(harness.context, { email: 'c@example.com' });

    assert.deepEqual(await listed('sortBy=email&direction=asc'), ['a@example.com', 'b@example.com', 'c@example.com']);
    assert.deepEqual(await listed('sortBy=phone_number&direction=asc'), ['c@example.com', 'a@example.com', 'b@example.com'], 'an unknown column falls back to newest first');
  });

  test('shows the linked user by username', async () => {
    const user = await harness.context.models.User.create({ username: 'grace', email: 'grace@example.com', password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
    const subscriber = await makeSubscriber(harness.context, { email: 'grace@example.com' });
    await subscriber.update({ user_id: user.id, is_processed: true });

    const response = await client.get(LIST);

    const [record] = response.body.records;
    assert.equal(record.params.user_id, user.id);
    assert.equal(record.populated.user_id.title, 'grace');
  });
});

describe('subscriber search', () => {
  beforeEach(async () => {
    await makeSubscriber(harness.context, { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' });
    await makeSubscriber(harness.context, { email: 'GRACE@EXAMPLE.ORG', name: 'Grace Hopper' });
    await makeSubscriber(harness.context, { email: 'percent@example.com', name: '100% Sure' });
    await makeSubscriber(harness.context, { email: 'under_score@example.com', name: 'Under Score' });
    await makeSubscriber(harness.context, { email: 'underxscore@example.com', name: 'Not Underscored' });
  });

  test('ignores case in email and name', async () => {
    assert.deepEqual(await listed('filters.search=grace@EXAMPLE.org'), ['GRACE@example.org'], 'the stored domain is lower-case; the local part keeps its case');
    assert.deepEqual(await listed('filters.search=LOVELACE'), ['ada.lovelace@example.com']);
    assert.deepEqual(await listed('filters.search=hopper'), ['GRACE@example.org'], 'the extracted last name matches');
  });

  test('takes percent and underscore literally', async () => {
    assert.deepEqual(await listed('filters.search=%25'), ['percent@example.com']);
    assert.deepEqual(await listed('filters.search=under_'), ['under_score@example.com']);
    assert.deepEqual(await listed('filters.search=%5C'), [], 'a backslash matches only a backslash');
  });

  test('combines search with filters', async () => {
    assert.deepEqual(await listed('filters.search=example.com&filters.source=referral'), []);
    assert.equal((await listed('filters.search=example.com&filters.source=website')).length, 4);
  });
});

describe('subscriber filters', () => {
  test('processed yes and no', async () => {
    const done = await makeSubscriber(harness.context, { email: 'done@example.com' });
    await done.update({ is_processed: true, processed_at: new Date('2026-02-10T12:00:00Z') });
    await makeSubscriber(harness.context, { email: 'waiting@example.com' });

    assert.deepEqual(await listed('filters.is_processed=true'), ['done@example.com']);
    assert.deepEqual(await listed('filters.is_processed=false'), ['waiting@example.com']);
  });

  test('source matches whole values', async () => {
    await makeSubscriber(harness.context, { email: 'r@example.com', source: 'referral' });
    await makeSubscriber(harness.context, { email: 's@example.com', source: 'social_media' });

    assert.deepEqual(await listed('filters.source=referral'), ['r@example.com']);
    assert.deepEqual(await listed('filters.source=social'), [], 'a part of a source matches nothing');
  });

  test('created and processed date ranges', async () => {
    const early = await makeSubscriber(harness.context, { email: 'early@example.com', created_at: new Date('2026-01-05T10:00:00Z') });
    await makeSubscriber(harness.context, { email: 'late@example.com', created_at: new Date('2026-01-20T23:30:00Z') });
    await early.update({ is_processed: true, processed_at: new Date('2026-02-01T08:00:00Z') });

    assert.deepEqual(await listed('filters.created_at~~from=2026-01-10&filters.created_at~~to=2026-01-20'), ['late@example.com'], 'the last day counts whole');
    assert.deepEqual(await listed('filters.created_at~~to=2026-01-19'), ['early@example.com']);
    assert.deepEqual(await listed('filters.processed_at~~from=2026-02-01T00:00:00Z'), ['early@example.com']);
  });

  test('needs attention and linked user', async () => {
    const stuck = await makeSubscriber(harness.context, { email: 'stuck@example.com' });
    await stuck.update({ gave_up_at: new Date(), last_error_code: 'smtp_rejected' });
    const user = await harness.context.models.User.create({ username: 'linked', email: 'linked@example.com', password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
    const linked = await makeSubscriber(harness.context, { email: 'linked@example.com' });
    await linked.update({ user_id: user.id, is_processed: true });
    await makeSubscriber(harness.context, { email: 'plain@example.com' });

    assert.deepEqual(await listed('filters.needs_attention=true'), ['stuck@example.com']);
    assert.deepEqual((await listed('filters.needs_attention=false')).sort(), ['linked@example.com', 'plain@example.com']);
    assert.deepEqual(await listed('filters.has_user=true'), ['linked@example.com']);
    assert.deepEqual((await listed('filters.has_user=false')).sort(), ['plain@example.com', 'stuck@example.com']);
  });

  test('ignores filters on unlisted columns', async () => {
    await makeSubscriber(harness.context, { email: 'one@example.com' });

    assert.deepEqual(await listed('filters.last_error_message=zzz'), ['one@example.com']);
  });
});

describe('subscriber create and edit', () => {
  const NEW = '/admin/api/resources/waitlist_subscribers/actions/new';

  test('creates with extracted names', async () => {
    const response = await client.post(NEW, { email: '  new.person@example.com ', name: 'Mary  Ann Jones', source: 'newsletter', phone_number: '' });

    assert.deepEqual(response.body.record.errors, {});
    const subscriber = await harness.context.models.WaitlistSubscriber.findOne({ where: { email: 'new.person@example.com' } });
    assert.ok(subscriber, 'stored with the email trimmed');
    assert.equal(subscriber.first_name, 'Mary');
    assert.equal(subscriber.last_name, 'Ann Jones');
    assert.equal(subscriber.phone_number, null);
  });

  test('shows validation messages on fields', async () => {
    const response = await client.post(NEW, { email: 'not-an-email', name: 'x'.repeat(256), source: 'billboard', phone_number: '1'.repeat(21) });

    const { errors } = response.body.record;
    assert.match(errors.email.message, /Enter a full email address/);
    assert.match(errors.name.message, /Name must be at most 255 characters/);
    assert.match(errors.source.message, /Source must be one of: website, social_media/);
    assert.match(errors.phone_number.message, /phone number/i);
    assert.equal(await harness.context.models.WaitlistSubscriber.count(), 0);
  });

  test('refuses a duplicate email in any case', async () => {
    await makeSubscriber(harness.context, { email: 'taken@example.com' });

    const response = await client.post(NEW, { email: 'TAKEN@example.com', source: 'website' });

    assert.match(response.body.record.errors.email.message, /already on the waitlist/);
    assert.equal(await harness.context.models.WaitlistSubscriber.count(), 1);
  });

  test('edit re-extracts names', async () => {
    const subscriber = await makeSubscriber(harness.context, { name: 'Old Name' });

    const response = await client.post(`/admin/api/resources/waitlist_subscribers/records/${subscriber.id}/edit`, {
      ...{ email: subscriber.email, name: 'Katherine Coleman Johnson', source: 'referral' },
      is_processed: 'true',
      user_id: '99',
    });

    assert.deepEqual(response.body.record.errors, {});
    await subscriber.reload();
    assert.equal(subscriber.first_name, 'Katherine');
    assert.equal(subscriber.last_name, 'Coleman Johnson');
    assert.equal(subscriber.source, 'referral');
    assert.equal(subscriber.is_processed, false, 'fields outside the form are not changed');
    assert.equal(subscriber.user_id, null);
    assert.ok(await harness.context.models.AdminAuditEntry.findOne({ where: { action: 'edit', record_ids: subscriber.id } }), 'the edit is audited');
  });

  test('edit keeps the record on errors', async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'keep@example.com' });

    const response = await client.post(`/admin/api/resources/waitlist_subscribers/records/${subscriber.id}/edit`, { email: 'broken', source: 'website' });

    assert.match(response.body.record.errors.email.message, /Enter a full email address/);
    await subscriber.reload();
    assert.equal(subscriber.email, 'keep@example.com');
    assert.equal(await harness.context.models.AdminAuditEntry.count(), 0, 'a failed edit is not audited');
  });
});

describe('subscriber show page', () => {
  test('carries the deliveries', async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'shown@example.com' });
    await harness.context.models.EmailDelivery.create({ recipient: 'shown@example.com', kind: 'welcome', subscriber_id: subscriber.id, user_id: null, status: 'failed', message_id: null, smtp_response: '550', error_code: 'smtp_rejected', error_message: 'mailbox unavailable' });

    const response = await client.get(`/admin/api/resources/waitlist_subscribers/records/${subscriber.id}/show`);

    assert.equal(response.status, 200);
    const [delivery] = response.body.record.params.deliveries;
    assert.equal(delivery.error_code, 'smtp_rejected');
    assert.equal(delivery.status, 'failed');
  });
});

describe('users, deliveries and audit lists', () => {
  async function names(path: string, field: string): Promise<string[]> {
    const response = await client.get(path);
    assert.equal(response.status, 200, path);
    return response.body.records.map((record: { params: Record<string, string> }) => record.params[field]).sort();
  }

  test('users search and filters', async () => {
    const models = harness.context.models;
    const base = { password_hash: null, phone_number: null, password_expires_at: null, last_login: null };
    await models.User.create({ ...base, username: 'ada', email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', is_verified: true });
    await models.User.create({ ...base, username: 'grace_h', email: 'grace@example.org', first_name: 'Grace', last_name: 'Hopper', must_change_password: true });

    const list = '/admin/api/resources/users/actions/list';
    assert.deepEqual(await names(`${list}?filters.search=LOVELACE`, 'username'), ['ada']);
    assert.deepEqual(await names(`${list}?filters.search=example.org`, 'username'), ['grace_h']);
    assert.deepEqual(await names(`${list}?filters.search=e_h`, 'username'), ['grace_h'], 'the underscore matches only itself');
    assert.deepEqual(await names(`${list}?filters.is_verified=true`, 'username'), ['ada']);
    assert.deepEqual(await names(`${list}?filters.must_change_password=true`, 'username'), ['grace_h']);
    assert.equal((await names(`${list}?filters.is_staff=true`, 'username')).length, 1, 'only the signed-in staff account');
  });

  test('deliveries filter by status and kind', async () => {
    const delivery = { subscriber_id: null, user_id: null, message_id: null, smtp_response: null, error_code: null, error_message: null };
    await harness.context.models.EmailDelivery.create({ ...delivery, recipient: 'a@example.com', kind: 'welcome', status: 'accepted' });
    await harness.context.models.EmailDelivery.create({ ...delivery, recipient: 'b@example.com', kind: 'resend', status: 'failed' });

    const list = '/admin/api/resources/email_deliveries/actions/list';
    assert.deepEqual(await names(`${list}?filters.status=failed`, 'recipient'), ['b@example.com']);
    assert.deepEqual(await names(`${list}?filters.kind=welcome`, 'recipient'), ['a@example.com']);
  });

  test('deliveries and audit are read-only', async () => {
    const delivery = await harness.context.models.EmailDelivery.create({ recipient: 'a@example.com', kind: 'welcome', status: 'accepted', subscriber_id: null, user_id: null, message_id: null, smtp_response: null, error_code: null, error_message: null });
    const entry = await harness.context.models.AdminAuditEntry.create({ staff_user_id: null, staff_email: 'x@example.com', action: 'edit', resource: 'users', details: null });

    const paths = [
      `/admin/api/resources/email_deliveries/records/${delivery.id}/edit`,
      `/admin/api/resources/email_deliveries/records/${delivery.id}/delete`,
      `/admin/api/resources/admin_audit_entries/records/${entry.id}/edit`,
      `/admin/api/resources/admin_audit_entries/records/${entry.id}/delete`,
    ];
    for (const path of paths) {
      const response = await client.post(path, { recipient: 'changed@example.com', staff_email: 'changed@example.com' });
      assert.equal(response.body.notice?.type, 'error', path);
    }

    await delivery.reload();
    await entry.reload();
    assert.equal(delivery.recipient, 'a@example.com');
    assert.equal(entry.staff_email, 'x@example.com');
    assert.deepEqual(await names('/admin/api/resources/admin_audit_entries/actions/list', 'staff_email'), ['x@example.com']);
  });
});
