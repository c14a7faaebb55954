import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { exportSubscribers, parseRangeBound, type SubscriberFilter } from '../src/subscriber-export.ts';
import { ImportFileError, importSubscribers, type ImportOptions, type InvalidRow } from '../src/subscriber-import.ts';
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
  await harness.context.database.sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users RESTART IDENTITY CASCADE');
});

async function runImport(csv: string, options: ImportOptions = {}) {
  const invalid: InvalidRow[] = [];
  const summary = await importSubscribers(harness.context, Readable.from([csv]), { ...options, onInvalidRow: (row) => void invalid.push(row) });
  return { summary, invalid };
}

async function runExport(filter: SubscriberFilter = {}): Promise<string> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk) => chunks.push(chunk));
  await exportSubscribers(harness.context, filter, output);
  return Buffer.concat(chunks).toString('utf8');
}

async function storedRows() {
  const [rows] = await harness.context.database.sequelize.query(
    'SELECT email, name, first_name, last_name, phone_number, source, created_at FROM waitlist_subscribers ORDER BY created_at, id',
  );
  return rows as Array<Record<string, unknown>>;
}

const MIXED = [
  'Email,Name,phone_number,source,created_at,notes',
  'ada@example.com,Ada Lovelace,+44 20 7946 0958,Referral,2025-01-02T03:04:05Z,vip',
  'existing@EXAMPLE.com,Should Not Overwrite,,,,',
  'ADA@example.com,Second Ada,,,,',
  'not-an-email,"Bob',
  'Newline",12,tv,2099-01-01,',
  'grace@bücher.example,Grace Hopper,,newsletter,2024-12-31,',
  'too@example.com,many,fields,here,2025-01-01,x,extra',
  '',
  'linus@example.com,,,,,',
].join('\n');

describe('importSubscribers', () => {
  test('imports mixed good, duplicate and bad rows', async () => {
    await makeSubscriber(harness.context, { email: 'existing@example.com', name: 'Existing Person' });

    const { summary, invalid } = await runImport(MIXED);

    assert.deepEqual(
      { rows: summary.rows, added: summary.added, duplicates: summary.duplicates, invalid: summary.invalid },
      { rows: 7, added: 3, duplicates: 2, invalid: 2 },
    );
    assert.deepEqual(summary.unknownColumns, ['notes']);

    const rows = await storedRows();
    const byEmail = Object.fromEntries(rows.map((row) => [row.email, row]));
    assert.equal(byEmail['existing@example.com'].name, 'Existing Person', 'an address on the list is never overwritten');
    assert.equal(byEmail['ada@example.com'].name, 'Ada Lovelace', 'the first row of a repeated address wins');
    assert.equal(byEmail['ada@example.com'].phone_number, '+442079460958');
    assert.equal(byEmail['ada@example.com'].source, 'referral');
    assert.equal(byEmail['ada@example.com'].last_name, 'Lovelace');
    assert.equal((byEmail['ada@example.com'].created_at as Date).toISOString(), '2025-01-02T03:04:05.000Z', 'created_at from the file is kept');
    assert.equal((byEmail['grace@xn--bcher-kva.example'].created_at as Date).toISOString(), '2024-12-31T00:00:00.000Z');
    assert.equal((byEmail['linus@example.com'].created_at as Date).getTime(), harness.clock.now.getTime(), 'no created_at means now');

    assert.deepEqual(invalid.map((row) => row.line), [5, 8]);
    assert.deepEqual(Object.keys(invalid[0].reasons).sort(), ['created_at', 'email', 'name', 'phone_number', 'source']);
    assert.match(invalid[0].reasons.created_at, /in the future/);
    assert.equal(invalid[0].cells.Name, 'Bob\nNewline', 'the report keeps the cells as read');
    assert.match(invalid[1].reasons.row, /7 fields but the header has 6/);
  });

  test('dry run counts the same and stores nothing', async () => {
    await makeSubscriber(harness.context, { email: 'existing@example.com' });

    const { summary } = await runImport(MIXED, { dryRun: true, batchSize: 2 });

    assert.equal(summary.dryRun, true);
    assert.deepEqual({ added: summary.added, duplicates: summary.duplicates, invalid: summary.invalid }, { added: 3, duplicates: 2, invalid: 2 });
    assert.equal((await storedRows()).length, 1);
  });

  test('small batches give the same result', async () => {
    const { summary } = await runImport(MIXED, { batchSize: 1 });

    assert.equal(summary.added, 4);
    assert.equal(summary.duplicates, 1);
    assert.equal((await storedRows()).length, 4);
  });

  test('phone country reads national numbers', async () => {
    const { summary } = await runImport('email,phone_number\nuk@example.com,020 7946 0958\n', { phoneCountry: 'GB' });

    assert.equal(summary.added, 1);
    assert.equal((await storedRows())[0].phone_number, '+442079460958');
  });

  test('reads a byte-order mark and CRLF lines', async () => {
    const { summary } = await runImport('\ufeffemail,name\r\nbom@example.com,Bom Person\r\n');

    assert.equal(summary.added, 1);
    assert.deepEqual(summary.unknownColumns, []);
  });

  test('unclosed quote becomes an invalid row', async () => {
    const { summary, invalid } = await runImport('email,name\nok@example.com,Fine\nbad@example.com,"never closed\n');

    assert.equal(summary.added, 1);
    assert.equal(summary.invalid, 1);
    assert.match(invalid[0].reasons.row, /not valid CSV/);
  });

  test('file without email column is refused', async () => {
    await assert.rejects(runImport('mail,name\na@example.com,A\n'), (error: Error) => {
      assert.ok(error instanceof ImportFileError);
      assert.match(error.message, /no "email" column/);
      return true;
    });
    await assert.rejects(runImport(''), /The file is empty/);
    await assert.rejects(runImport('email,EMAIL\n'), /column "email" twice/);
  });
});

describe('exportSubscribers', () => {
  test('neutralises formula cells', async () => {
    await makeSubscriber(harness.context, { email: 'formula@example.com', name: '=HYPERLINK("http://evil.example","click")', phone_number: '+442079460958' });
    await makeSubscriber(harness.context, { email: 'at@example.com', name: '@SUM(1+1)' });
    await makeSubscriber(harness.context, { email: 'minus@example.com', name: "-2+3 and 'quoted'" });

    const csv = await runExport();
    const records = parse(csv, { columns: true }) as Array<Record<string, string>>;

    assert.deepEqual(Object.keys(records[0]), ['email', 'name', 'phone_number', 'source', 'created_at', 'processed', 'processed_at']);
    assert.equal(records[0].name, `'=HYPERLINK("http://evil.example","click")`);
    assert.equal(records[0].phone_number, "'+442079460958");
    assert.equal(records[1].name, "'@SUM(1+1)");
    assert.equal(records[2].name, "'-2+3 and 'quoted'");
    for (const record of records) {
      for (const cell of Object.values(record)) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `cell ${cell} is neutralised`);
    }
  });

  test('round-trips through import', async () => {
    await makeSubscriber(harness.context, { email: 'ada@example.com', name: 'Ada "The Countess" Lovelace, FRS', phone_number: '+442079460958', source: 'referral' });
    await makeSubscriber(harness.context, { email: 'eve@example.com', name: "=cmd|' /C calc'!A0", source: 'other' });
    await makeSubscriber(harness.context, { email: 'apostrophe@example.com', name: "'=already quoted" });
    await makeSubscriber(harness.context, { email: 'plain@xn--bcher-kva.example', name: null, source: 'newsletter' });
    const before = await storedRows();

    const csv = await runExport();
    await harness.context.database.sequelize.query('TRUNCATE waitlist_subscribers RESTART IDENTITY CASCADE');
    const { summary } = await runImport(csv);

    assert.equal(summary.added, 4);
    assert.equal(summary.invalid, 0);
    assert.deepEqual(summary.unknownColumns, ['processed', 'processed_at']);
    assert.deepEqual(await storedRows(), before);
  });

  test('filters by source, state, date and search', async () => {
    await makeSubscriber(harness.context, { email: 'a@example.com', name: 'Percent 100%', source: 'referral', created_at: new Date('2025-01-10T12:00:00Z') });
    await makeSubscriber(harness.context, { email: 'b@example.com', name: 'Plain', source: 'referral', created_at: new Date('2025-01-31T23:59:59Z') });
    await makeSubscriber(harness.context, { email: 'c@example.com', name: 'Other', source: 'newsletter', created_at: new Date('2025-02-01T00:00:00Z') });
    await harness.context.database.sequelize.query("UPDATE waitlist_subscribers SET is_processed = true, processed_at = now() WHERE email = 'b@example.com'");

    const emails = async (filter: SubscriberFilter) => (parse(await runExport(filter), { columns: true }) as Array<{ email: string }>).map((row) => row.email);

    assert.deepEqual(await emails({}), ['a@example.com', 'b@example.com', 'c@example.com']);
    assert.deepEqual(await emails({ sources: ['referral'] }), ['a@example.com', 'b@example.com']);
    assert.deepEqual(await emails({ processed: false }), ['a@example.com', 'c@example.com']);
    assert.deepEqual(await emails({ search: '100%' }), ['a@example.com']);
    assert.deepEqual(await emails({ search: '%' }), ['a@example.com'], '% is taken literally');
    assert.deepEqual(await emails({ search: 'PLAIN' }), ['b@example.com']);
    assert.deepEqual(
      await emails({ createdFrom: parseRangeBound('2025-01-11', 'from'), createdUntil: parseRangeBound('2025-01-31', 'to') }),
      ['b@example.com'],
      'the to date includes its whole day',
    );
    assert.deepEqual(await emails({ needsAttention: true }), []);
  });

  test('empty list exports the header', async () => {
    assert.equal(await runExport(), 'email,name,phone_number,source,created_at,processed,processed_at\n');
  });
});
