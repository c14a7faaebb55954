import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { TEST_ENVIRONMENT } from './support/context.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const BIN = path.resolve('bin/waitlist.js');

let database: TestDatabase;
let folder: string;
let client: pg.Client;

before(async () => {
  database = await createTestDatabase();
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-csv-cli-'));
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const migrated = await waitlist(['migrate']);
  assert.equal(migrated.code, 0, migrated.stderr);
});

after(async () => {
  await client.end();
  await database.drop();
  rmSync(folder, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function environment() {
  const { TEST_DATABASE_URL: _unused, ...inherited } = process.env;
  return { ...inherited, ...TEST_ENVIRONMENT, NODE_ENV: 'development', DATABASE_URL: database.url, DATA_DIR: folder, LOG_FILE: path.join(folder, 'cli.log') };
}

/** Runs a command and collects its output; `terminal` runs it under script(1), which gives it a pseudo-terminal. */
function run(command: string, args: string[]): Promise<Result> {
  const child = spawn(command, args, { env: environment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const waitlist = (args: string[]) => run(process.execPath, [BIN, ...args]);
const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
const inTerminal = (args: string[]) => run('script', ['-qec', [process.execPath, BIN, ...args].map(quote).join(' '), '/dev/null']);

const count = async (sql: string) => Number((await client.query(sql)).rows[0].count);

function writeCsv(name: string, rows: string[]): string {
  const file = path.join(folder, name);
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

describe('waitlist import', () => {
  test('dry run then import with report', async () => {
    const file = writeCsv('people.csv', [
      'email,name,source,created_at,favourite_colour',
      'ada@example.com,Ada Lovelace,referral,2025-01-01,blue',
      'ADA@example.com,Ada Again,,,',
      'broken,"=cmd|calc",tv,,red',
      'grace@example.com,Grace Hopper,,2025-02-01,green',
    ]);

    const dry = await waitlist(['import', file, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run of .*people\.csv: 4 rows, 2 would be added, 1 duplicates skipped, 1 invalid\./);
    assert.match(dry.stdout, /Ignored unknown column\(s\): favourite_colour\./);
    assert.match(dry.stdout, /Nothing was stored/);
    assert.equal(await count('SELECT count(*) FROM waitlist_subscribers'), 0);

    const real = await waitlist(['import', file]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /Imported .*: 4 rows, 2 added, 1 duplicates skipped, 1 invalid\./);
    assert.doesNotMatch(real.stderr, /Importing \|/, 'no progress bar without a terminal');
    assert.equal(await count('SELECT count(*) FROM waitlist_subscribers'), 2);

    const reportPath = path.join(folder, 'people.invalid-rows.csv');
    assert.match(real.stdout, new RegExp(`Invalid rows, with line numbers and reasons: ${reportPath.replaceAll('.', '\\.')}`));
    const report = parse(readFileSync(reportPath), { columns: true }) as Array<Record<string, string>>;
    assert.equal(report.length, 1);
    assert.equal(report[0].line, '4');
    assert.match(report[0].reasons, /^email: .* source: Source must be one of/);
    assert.equal(report[0].name, `'=cmd|calc`, 'report cells are neutralised too');
    assert.equal(report[0].favourite_colour, 'red', 'the report keeps every column');
  });

  test('shows a progress bar on a terminal', async () => {
    const rows = ['email,name'];
    for (let index = 0; index < 2500; index++) rows.push(`bar${index}@example.com,Person ${index}`);
    const file = writeCsv('bar.csv', rows);

    const result = await inTerminal(['import', file, '--batch-size', '500']);

    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Importing \|#+\.*\| \d+% \| \d+ rows: \d+ added/);
    assert.match(result.stdout, /Importing \|#{40}\| 100% \| 2500 rows: 2500 added, 0 duplicates, 0 invalid/);
    assert.match(result.stdout, /2500 rows, 2500 added/);
    assert.equal(await count("SELECT count(*) FROM waitlist_subscribers WHERE email LIKE 'bar%'"), 2500);
  });

  test('missing file fails clearly', async () => {
    const missing = await waitlist(['import', path.join(folder, 'nope.csv')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.csv: no such file/);
    assert.equal(existsSync(path.join(folder, 'nope.invalid-rows.csv')), false, 'no report for a file never read');
  });
});

describe('waitlist export', () => {
  test('writes only CSV to standard output', async () => {
    const result = await waitlist(['export', '--source', 'referral', '--unprocessed']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'email,name,phone_number,source,created_at,processed,processed_at\nada@example.com,Ada Lovelace,,referral,2025-01-01T00:00:00.000Z,false,\n');
  });

  test('writes a file and refuses a bad source', async () => {
    const output = path.join(folder, 'all.csv');
    const result = await waitlist(['export', '--output', output, '--created-from', '2025-01-15']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Exported 2501 subscriber\(s\)/);
    assert.equal(readFileSync(output, 'utf8').trim().split('\n').length, 2502);

    const bad = await waitlist(['export', '--source', 'tv']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Source must be one of: website, social_media/);
  });
});

describe('waitlist personal-data', () => {
  test('export, preview, then delete', async () => {
    const exported = await waitlist(['personal-data', 'export', 'GRACE@example.com']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(JSON.parse(exported.stdout).subscribers[0].name, 'Grace Hopper');

    const preview = await waitlist(['personal-data', 'delete', 'grace@example.com']);
    assert.equal(preview.code, 2);
    assert.match(preview.stdout, /Would delete 1 subscriber row\(s\), 0 email deliveries and 0 account\(s\)\.\nNothing was deleted/);
    assert.equal(await count("SELECT count(*) FROM waitlist_subscribers WHERE email = 'grace@example.com'"), 1);

    const deleted = await waitlist(['personal-data', 'delete', 'grace@example.com', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /Deleted 1 subscriber row\(s\)/);
    assert.equal(await count("SELECT count(*) FROM waitlist_subscribers WHERE email = 'grace@example.com'"), 0);
  });
});
