import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { TEST_ENVIRONMENT } from './support/context.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { TestSmtpServer } from './support/smtp.ts';

const BIN = path.resolve('bin/waitlist.js');

let database: TestDatabase;
let smtp: TestSmtpServer;
let folder: string;
let client: pg.Client;

before(async () => {
  database = await createTestDatabase();
  smtp = await new TestSmtpServer().start();
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-cli-'));
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

after(async () => {
  await client.end();
  await smtp.stop();
  await database.drop();
  rmSync(folder, { recursive: true, force: true });
});

function environment(extra: Record<string, string> = {}) {
  const { TEST_DATABASE_URL: _unused, ...inherited } = process.env;
  return {
    ...inherited,
    ...TEST_ENVIRONMENT,
    NODE_ENV: 'development',
    DATABASE_URL: database.url,
    DATA_DIR: folder,
    LOG_FILE: path.join(folder, 'cli.log'),
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    ...extra,
  };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], extra: Record<string, string> = {}): { child: ChildProcess; done: Promise<Result>; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env: environment(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Result>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => `standard output:\n${stdout}\nstandard error:\n${stderr}` };
}

function waitlist(args: string[], extra: Record<string, string> = {}): Promise<Result> {
  const { child, done } = start(args, extra);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return done.finally(() => clearTimeout(timer));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const count = async (sql: string) => Number((await client.query(sql)).rows[0].count);

describe('waitlist command line', () => {
  test('help lists process options', async () => {
    const result = await waitlist(['process', '--help']);
    assert.equal(result.code, 0);
    for (const option of ['--once', '--interval <seconds>', '--batch-size <n>']) assert.ok(result.stdout.includes(option), option);
  });

  test('invalid option exits with a clear error', async () => {
    const result = await waitlist(['process', '--batch-size', 'lots']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--batch-size takes a whole number from 1 to 10000, such as 10; got "lots"/);

    const unknown = await waitlist(['process', '--speed', '3']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--speed'/);
  });

  test('bad environment names the variable', async () => {
    const result = await waitlist(['process', '--once'], { PROCESSOR_BATCH_SIZE: '0' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /PROCESSOR_BATCH_SIZE: expected a whole number from 1 to 10000, got "0"/);
  });

  test('process refuses an unmigrated database', async () => {
    const result = await waitlist(['process', '--once']);
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /Run "npx waitlist migrate"/);
  });

  test('migrate applies once', async () => {
    const first = await waitlist(['migrate']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Applied \d+ migration/);

    const second = await waitlist(['migrate']);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /up to date/);
  });

  test('seed adds five subscribers once', async () => {
    const first = await waitlist(['seed']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Added 5 test subscriber/);

    const second = await waitlist(['seed']);
    assert.match(second.stdout, /Added 0 test subscriber/);
    assert.equal(await count('SELECT count(*) FROM waitlist_subscribers'), 5);
    assert.equal(await count("SELECT count(DISTINCT source) FROM waitlist_subscribers"), 5);
  });

  test('process once handles one batch', async () => {
    const result = await waitlist(['process', '--once', '--batch-size', '3']);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Totals: 3 processed, 0 existing accounts linked, 0 failed/);
    assert.equal(await count('SELECT count(*) FROM users'), 3);
    assert.equal(smtp.received.length, 3);
  });

  test('process keeps the interval and stops on SIGTERM', async () => {
    const { child, done, output } = start(['process', '--interval', '2', '--batch-size', '1']);

    try {
      await waitFor(async () => (await count('SELECT count(*) FROM processor_runs WHERE trigger = $$command$$ AND finished_at IS NOT NULL')) >= 4, 60_000, 'four scheduled runs');
    } catch (error) {
      // The worker's own output shows whether it started, ran or hung.
      child.kill('SIGKILL');
      await done;
      assert.fail(`${(error as Error).message}\n${output()}`);
    }
    child.kill('SIGTERM');
    const result = await done;

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Totals: 2 processed/);
    const { rows } = await client.query<{ started_at: Date }>('SELECT started_at FROM processor_runs ORDER BY id DESC LIMIT 3');
    const starts = rows.map((row) => row.started_at.getTime()).reverse();
    // Starts follow the schedule, so one late start shortens the next gap; their average stays at the interval.
    const average = (starts[starts.length - 1] - starts[0]) / (starts.length - 1);
    assert.ok(Math.abs(average - 2000) < 450, `runs start 2 s apart on average, got ${average} ms`);
    for (const [index, time] of starts.slice(1).entries()) {
      assert.ok(time - starts[index] < 3500, `no gap is rounded up to a longer period, got ${time - starts[index]} ms`);
    }
    assert.equal(await count('SELECT count(*) FROM waitlist_subscribers WHERE NOT is_processed'), 0);
  });

  test('log file is structured and holds no password', async () => {
    const log = readFileSync(path.join(folder, 'cli.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const summary = log.find((line) => line.msg === 'processor run finished');
    assert.ok(summary, 'one summary line per run');
    assert.equal(summary.level, 'INFO');
    for (const key of ['processed', 'existing', 'failed', 'skipped', 'durationMs']) assert.ok(key in summary, key);

    const passwords = smtp.received.map((email) => /Temporary password: (\S+)/.exec(email.parsed.text!)![1]);
    assert.equal(passwords.length, 5);
    const text = readFileSync(path.join(folder, 'cli.log'), 'utf8');
    for (const password of passwords) assert.ok(!text.includes(password), 'no password in the log file');
  });
});
