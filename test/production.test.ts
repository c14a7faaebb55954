// Builds the service once into a temporary production install and runs it as an operator would:
// NODE_ENV=production, compiled code only, on a fresh database of the test server, behind a TCP proxy
// that the tests cut to take the database away.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { installProductionBuild } from './support/production-build.ts';
import { TestSmtpServer } from './support/smtp.ts';
import { proxyFor, type TcpProxy } from './support/tcp-proxy.ts';

const METRICS_TOKEN = randomBytes(24).toString('hex');

let folder: string;
let bin: string;
let database: TestDatabase;
let smtp: TestSmtpServer;
let proxy: TcpProxy;
let client: pg.Client;
const children = new Set<ChildProcess>();

before(async () => {
  folder = mkdtempSync(path.join(tmpdir(), 'waitlist-production-'));
  bin = await installProductionBuild(path.join(folder, 'app'));
  database = await createTestDatabase();
  smtp = await new TestSmtpServer().start();
  proxy = await proxyFor(database.url);
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await client.end();
  await proxy.stop();
  await smtp.stop();
  await database.drop();
  rmSync(folder, { recursive: true, force: true });
});

/** Returns the environment of a production deployment, without the test's own variables. */
function productionEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { TEST_DATABASE_URL: _test, NODE_OPTIONS: _options, ...inherited } = process.env;
  return {
    ...inherited,
    NODE_ENV: 'production',
    DATABASE_URL: proxy.proxiedUrl(database.url),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    EMAIL_TIMEOUT_SECONDS: '2',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_TOKEN,
    PROCESSOR_INTERVAL_SECONDS: '1',
    FRONTEND_URL: 'http://127.0.0.1:9',
    DATA_DIR: path.join(folder, 'data'),
    LOG_FILE: path.join(folder, 'logs', 'web.log'),
    ...extra,
  };
}

/** A running `waitlist` command with its stdout parsed as JSON lines. */
class Command {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  readonly unparsed: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private buffer = '';

  constructor(args: string[], environment: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [bin, ...args], { cwd: path.dirname(path.dirname(bin)), env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);

    this.child.stdout!.on('data', (chunk) => this.read(String(chunk)));
    this.child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.exited.then(() => children.delete(this.child));
  }

  async waitForLine(message: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    await waitFor(async () => this.lines.some((line) => line.msg === message), timeoutMs, `the log line "${message}" (stderr: ${this.stderr})`);
    return this.lines.find((line) => line.msg === message)!;
  }

  /** Sends SIGTERM and waits for the exit, killing the process if it takes longer than 20 s. */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private read(chunk: string) {
    this.buffer += chunk;
    const complete = this.buffer.split('\n');
    this.buffer = complete.pop()!;
    for (const line of complete.filter(Boolean)) {
      try {
        this.lines.push(JSON.parse(line));
      } catch {
        this.unparsed.push(line);
      }
    }
  }
}

async function run(args: string[], environment: NodeJS.ProcessEnv): Promise<{ code: number | null; command: Command }> {
  const command = new Command(args, environment);
  const timer = setTimeout(() => command.child.kill('SIGKILL'), 60_000);
  const code = await command.exited;
  clearTimeout(timer);
  return { code, command };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Returns the value of one series, such as `waitlist_subscribers_pending` or `x_total{code="a"}`, from a scrape. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const count = async (sql: string) => Number((await client.query(sql)).rows[0].count);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('production build', () => {
  let web: Command;
  let baseUrl: string;
  const scrape = () => fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });

  test('dist runs without sources', () => {
    const app = path.dirname(path.dirname(bin));
    assert.deepEqual(readdirSync(app).sort(), ['bin', 'dist', 'node_modules', 'package.json']);
    assert.ok(readdirSync(path.join(app, 'dist', 'views', 'emails')).includes('waitlist_welcome.html.ejs'));
    assert.ok(!readdirSync(path.join(app, 'node_modules')).includes('tsx'), 'no TypeScript tooling is installed');
    assert.ok(!readdirSync(path.join(app, 'node_modules')).includes('typescript'));
  });

  test('unsafe configuration names each problem', async () => {
    const { code, command } = await run(['serve'], { PATH: process.env.PATH, NODE_ENV: 'production' });

    assert.equal(code, 2);
    assert.match(command.stderr, /DATABASE_URL is missing, and NODE_ENV=production/);
    assert.match(command.stderr, /EMAIL_HOST is missing, and NODE_ENV=production: .*EMAIL_ALLOW_OUTBOX=true/);
    assert.match(command.stderr, /SESSION_SECRET is missing or still the example value/);
  });

  test('migrate applies compiled migrations', async () => {
    const { code, command } = await run(['migrate'], productionEnvironment());

    assert.equal(code, 0, command.stderr);
    const sources = readdirSync('migrations').filter((file) => file.endsWith('.ts'));
    assert.equal(await count('SELECT count(*) FROM schema_migrations'), sources.length);
  });

  test('serve answers health checks', async () => {
    web = new Command(['serve'], productionEnvironment());
    const listening = await web.waitForLine('web app listening');
    baseUrl = String(listening.url);

    const health = await fetch(`${baseUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    const ready = await fetch(`${baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  test('serve logs JSON lines', () => {
    assert.deepEqual(web.unparsed, []);
    assert.ok(web.lines.length > 0);
    for (const line of web.lines) {
      assert.match(String(line.level), /^(DEBUG|INFO|WARN|ERROR)$/);
      assert.equal(typeof line.msg, 'string');
    }
  });

  test('metrics need the bearer token', async () => {
    const missing = await fetch(`${baseUrl}/metrics`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="metrics"');

    const wrong = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN.slice(1)}x` } });
    assert.equal(wrong.status, 401);

    const right = await scrape();
    assert.equal(right.status, 200);
    const type = right.headers.get('content-type')!;
    assert.match(type, /^text\/plain;/);
    assert.match(type, /version=0\.0\.4/, "Prometheus' text format version");
  });

  test('metrics count processing', async () => {
    smtp.recipientReply = (address) => (address === 'rejected@example.com' ? { code: 550, message: 'No such mailbox' } : undefined);
    await client.query(`
      INSERT INTO waitlist_subscribers (email, name) VALUES ('ada@example.com', 'Ada'), ('grace@example.com', 'Grace'), ('rejected@example.com', 'Nobody');
      INSERT INTO waitlist_subscribers (email, attempts, next_attempt_at) VALUES ('later@example.com', 1, now() + interval '1 day');
    `);
    // Each run logs its counts once it has finished and recorded its metrics.
    const runTotal = (field: 'processed' | 'failed') =>
      web.lines.filter((line) => line.msg === 'processor run finished').reduce((total, line) => total + Number(line[field]), 0);
    await waitFor(async () => runTotal('processed') === 2 && runTotal('failed') === 1, 30_000, 'runs that processed two subscribers and failed one');

    const body = await (await scrape()).text();
    assert.equal(sample(body, 'waitlist_subscribers_processed_total{outcome="created"}'), 2);
    assert.equal(sample(body, 'waitlist_subscribers_failed_total{code="smtp_rejected",gave_up="true"}'), 1);
    assert.equal(sample(body, 'waitlist_welcome_emails_accepted_total'), 2);
    assert.equal(sample(body, 'waitlist_welcome_emails_failed_total{code="smtp_rejected"}'), 1);
    assert.equal(sample(body, 'waitlist_welcome_emails_failed_total{code="smtp_unavailable"}'), 0);
    assert.equal(sample(body, 'waitlist_processing_duration_seconds_count{outcome="created"}'), 2);
    assert.equal(sample(body, 'waitlist_smtp_send_duration_seconds_count{result="accepted"}'), 2);
    assert.equal(sample(body, 'waitlist_smtp_send_duration_seconds_count{result="failed"}'), 1);
    assert.equal(sample(body, 'waitlist_subscribers_pending'), 1, 'the subscriber waiting for a retry');
    assert.equal(sample(body, 'waitlist_subscribers_needs_attention'), 1);
    assert.equal(sample(body, 'waitlist_processing_paused'), 0);
    assert.equal(sample(body, 'waitlist_database_up'), 1);
    assert.ok(sample(body, 'process_cpu_user_seconds_total') !== undefined, "Node's process metrics are there");

    const lastSuccess = sample(body, 'waitlist_last_successful_run_timestamp_seconds');
    assert.ok(lastSuccess !== undefined, 'a run completed');
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 60, `last success ${lastSuccess} is recent`);
  });

  test('metrics read paused from the database', async () => {
    // The admin panel's migration creates this table; the statement is a no-op once it has.
    await client.query(`
      CREATE TABLE IF NOT EXISTS processor_settings (id smallint PRIMARY KEY DEFAULT 1, paused boolean NOT NULL DEFAULT false);
      INSERT INTO processor_settings (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
      UPDATE processor_settings SET paused = true WHERE id = 1;
    `);

    const body = await (await scrape()).text();
    assert.equal(sample(body, 'waitlist_processing_paused'), 1);
  });

  test('readyz fails without the database', async () => {
    await proxy.cut();

    const ready = await fetch(`${baseUrl}/readyz`);
    assert.equal(ready.status, 503);
    const readiness = (await ready.json()) as { status: string; reason: string; message: string };
    assert.equal(readiness.status, 'not_ready');
    assert.equal(readiness.reason, 'database_unreachable');
    assert.doesNotMatch(readiness.message, /127\.0\.0\.1|ECONNREFUSED/, 'the response does not show connection details');

    const health = await fetch(`${baseUrl}/healthz`);
    assert.equal(health.status, 200, 'the process is alive, so it must not be restarted');

    const metrics = await scrape();
    assert.equal(metrics.status, 200);
    const body = await metrics.text();
    assert.equal(sample(body, 'waitlist_database_up'), 0);
    assert.ok(Number.isNaN(sample(body, 'waitlist_subscribers_pending')), 'pending is unknown, not 0');
    assert.ok(web.lines.some((line) => line.msg === 'not ready' && line.reason === 'database_unreachable'));
  });

  test('readyz recovers with the database', async () => {
    await proxy.restore();

    await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).status === 200, 20_000, 'readyz to answer 200 again');
    const body = await (await scrape()).text();
    assert.equal(sample(body, 'waitlist_database_up'), 1);
    assert.equal(sample(body, 'waitlist_subscribers_pending'), 1);
  });

  test('serve stops on SIGTERM', async () => {
    const code = await web.stop();

    assert.equal(code, 0, web.stderr);
    assert.ok(web.lines.some((line) => line.msg === 'stopped'));
    const logFile = readFileSync(path.join(folder, 'logs', 'web.log'), 'utf8').trim().split('\n');
    assert.ok(logFile.length > 0);
    assert.ok(logFile.every((line) => typeof JSON.parse(line).msg === 'string'), 'the log file holds JSON lines');
  });

  test('worker serves metrics on its port', async () => {
    const port = await freePort();
    const worker = new Command(['process'], productionEnvironment({ METRICS_PORT: String(port), METRICS_TOKEN: '', LOG_FILE: '' }));
    await worker.waitForLine('metrics listening');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(sample(await metrics.text(), 'waitlist_subscribers_needs_attention'), 1);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 404, 'the metrics port serves nothing else');

    assert.equal(await worker.stop(), 0, worker.stderr);
  });
});
