import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import {
  filterFromAdminQuery,
  subscriberDataActions,
  type AdminActionContext,
  type AdminActionRequest,
  type PanelImportResult,
} from '../admin/subscriber-data-actions.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';

// The admin actions' handlers, called the way AdminJS calls them: (request, response, context).

let harness: TestHarness;
let folder: string;
let actions: ReturnType<typeof subscriberDataActions>;

before(async () => {
  harness = await createHarness();
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-admin-actions-'));
  actions = subscriberDataActions(harness.context, { components: { import: 'Import', export: 'Export', personalData: 'PersonalData' } });
});

after(async () => {
  await harness.close();
  rmSync(folder, { recursive: true, force: true });
});

beforeEach(async () => {
  await harness.context.database.sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs RESTART IDENTITY CASCADE');
});

const superuser = { email: 'root@example.com', is_superuser: true };

function actionContext(subscriberId?: string, currentAdmin: Record<string, unknown> = superuser): AdminActionContext {
  return {
    currentAdmin,
    record: subscriberId ? { params: { id: subscriberId }, toJSON: () => ({ id: subscriberId, params: { id: subscriberId } }) } : undefined,
    h: { resourceUrl: ({ resourceId }) => `/admin/resources/${resourceId}` },
  };
}

function actionRequest(method: 'get' | 'post', extra: Partial<AdminActionRequest> = {}): AdminActionRequest {
  return { method, params: { resourceId: 'waitlist_subscribers', action: 'test' }, ...extra };
}

async function importUpload(payload: Record<string, unknown>): Promise<PanelImportResult> {
  return (await actions.importSubscribers.handler(actionRequest('post', { payload }))) as PanelImportResult;
}

const count = async (sql: string) => {
  const [rows] = await harness.context.database.sequelize.query(sql);
  return Number((rows as Array<{ count: string }>)[0].count);
};

describe('importSubscribers action', () => {
  test('imports an upload and lists invalid rows', async () => {
    const file = path.join(folder, 'upload.csv');
    writeFileSync(file, 'email,name\nada@example.com,Ada\nada@EXAMPLE.com,Again\nnope,Bad\n');

    const result = await importUpload({ file: { path: file, name: 'upload.csv' }, dryRun: 'false' });

    assert.equal(result.notice.message, '3 rows, 1 added, 1 duplicates skipped, 1 invalid.');
    assert.equal(result.notice.type, 'info');
    assert.deepEqual(result.invalidRows.map((row) => row.line), [4]);
    assert.equal(await count('SELECT count(*) FROM waitlist_subscribers'), 1);
  });

  test('dry run stores nothing', async () => {
    const file = path.join(folder, 'dry.csv');
    writeFileSync(file, 'email\ngrace@example.com\n');

    const result = await importUpload({ file: { filepath: file }, dryRun: 'true' });

    assert.equal(result.notice.message, 'Dry run: 1 rows, 1 would be added, 0 duplicates skipped, 0 invalid.');
    assert.equal(await count('SELECT count(*) FROM waitlist_subscribers'), 0);
  });

  test('missing file or column gives an error notice', async () => {
    const none = await importUpload({});
    assert.deepEqual(none.notice, { message: 'Choose a CSV file to import.', type: 'error' });

    const file = path.join(folder, 'wrong.csv');
    writeFileSync(file, 'mail\nx@example.com\n');
    const wrong = await importUpload({ file: { path: file } });
    assert.equal(wrong.notice.type, 'error');
    assert.match(wrong.notice.message, /no "email" column/);
  });
});

describe('exportSubscribers action', () => {
  test('maps the list filter from the query', () => {
    const filter = filterFromAdminQuery({
      'filters.source': 'referral,tv',
      'filters.is_processed': 'false',
      'filters.created_at~~from': '2026-01-01',
      'filters.created_at~~to': '2026-01-31',
      'filters.email': ' 100% ',
      page: '2',
    });

    assert.deepEqual(filter.sources, ['referral']);
    assert.equal(filter.processed, false);
    assert.equal(filter.createdFrom?.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(filter.createdUntil?.toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(filter.search, '100%');
    assert.equal(filter.needsAttention, undefined);
  });

  test('download streams the filtered CSV', async () => {
    await makeSubscriber(harness.context, { email: 'referral@example.com', source: 'referral', name: '=SUM(A1)' });
    await makeSubscriber(harness.context, { email: 'newsletter@example.com', source: 'newsletter' });

    // The same call @adminjs/express makes: the action handler gets the Express response as its second argument.
    const app = express().get('/export', async (req, res, next) => {
      try {
        const result = await actions.exportSubscribers.handler(actionRequest('get', { query: req.query as Record<string, unknown> }), res);
        if (result) res.json(result);
      } catch (error) {
        next(error);
      }
    });
    const response = await request(app).get('/export').query({ download: 'csv', 'filters.source': 'referral' });

    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'], /^text\/csv/);
    assert.equal(response.headers['content-disposition'], 'attachment; filename="subscribers-2026-03-01.csv"');
    const lines = response.text.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1], /^referral@example\.com,'=SUM\(A1\),/);
  });
});

describe('personal data actions', () => {
  async function processedSubscriber() {
    const subscriber = await makeSubscriber(harness.context, { email: 'ada@example.com', name: 'Ada Lovelace' });
    await runBatch(harness.context, { batchSize: 5, trigger: 'test' });
    return subscriber;
  }

  test('export returns the report with the record', async () => {
    const subscriber = await processedSubscriber();

    const result = await actions.exportPersonalData.handler(actionRequest('get'), undefined, actionContext(subscriber.id));

    assert.deepEqual(result.record, { id: subscriber.id, params: { id: subscriber.id } });
    assert.equal(result.personalData?.subscribers.length, 1);
    assert.equal(result.personalData?.users.length, 1);
    assert.doesNotMatch(JSON.stringify(result), /password_hash|\$argon2/);
  });

  test('delete keeps the account, the other deletes it', async () => {
    const subscriber = await processedSubscriber();

    const withoutAccount = await actions.deletePersonalData.handler(actionRequest('get'), undefined, actionContext(subscriber.id));
    assert.equal(withoutAccount.notice.type, 'success');
    assert.match(withoutAccount.notice.message, /Deleted the subscriber, 1 email deliveries and 0 account\(s\)\. The linked account was kept\./);
    assert.equal(withoutAccount.redirectUrl, '/admin/resources/waitlist_subscribers');
    assert.equal(await count('SELECT count(*) FROM users'), 1);

    const other = await processedSubscriber();
    const withAccount = await actions.deletePersonalDataWithAccount.handler(actionRequest('get'), undefined, actionContext(other.id));
    assert.match(withAccount.notice.message, /1 account\(s\)/);
    assert.equal(await count("SELECT count(*) FROM users WHERE email = 'ada@example.com'"), 0);
  });

  test('missing subscriber gives an error notice', async () => {
    const result = await actions.deletePersonalData.handler(actionRequest('get'), undefined, actionContext('999999'));

    assert.equal(result.notice.type, 'error');
    assert.match(result.notice.message, /No subscriber or account matches subscriber id 999999/);
    assert.equal(result.redirectUrl, undefined);
  });

  test('only superusers may delete', () => {
    assert.equal(actions.deletePersonalData.isAccessible(actionContext(undefined, superuser)), true);
    assert.equal(actions.deletePersonalData.isAccessible(actionContext(undefined, { email: 'staff@example.com', is_staff: true })), false);
    assert.equal(actions.deletePersonalDataWithAccount.isAccessible({ ...actionContext(), currentAdmin: undefined }), false);
  });
});
