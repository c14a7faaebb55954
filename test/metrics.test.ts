import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { loadConfig } from '../src/config.ts';
import type { AppContext } from '../src/context.ts';
import { createSequelize } from '../src/database/connect.ts';
import { createApp } from '../src/http/app.ts';
import { startMetricsListener } from '../src/http/metrics-endpoint.ts';
import { Metrics } from '../src/metrics.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, TEST_ENVIRONMENT, type TestHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';
import { proxyFor } from './support/tcp-proxy.ts';

const TOKEN = 'metrics-token-for-tests-0123456789';

let harness: TestHarness;
let metrics: Metrics;

before(async () => {
  harness = await createHarness({ METRICS_TOKEN: TOKEN });
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await harness.context.database.sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs RESTART IDENTITY CASCADE');
  await harness.smtp.mode('accept');
  metrics = new Metrics();
  harness.context.metrics = metrics;
});

const run = () => runBatch(harness.context, { batchSize: 10, trigger: 'test' });

/** Returns the value of one series from a scrape, or undefined when the scrape lacks it. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const render = () => metrics.render(harness.context.database.sequelize, harness.context.logger);

/** Returns the harness context with other settings, for the parts that read them when they are built. */
function contextWith(environment: Record<string, string>): AppContext {
  const config = loadConfig({ ...TEST_ENVIRONMENT, DATABASE_URL: harness.database.url, ...environment });
  return { ...harness.context, config };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('metrics recorder', () => {
  test('context has metrics when exposed', () => {
    assert.ok(harness.config.metrics.token);
    assert.ok(harness.context.metrics instanceof Metrics);
  });

  test('counts created and linked subscribers', async () => {
    await makeSubscriber(harness.context, { email: 'new@example.com' });
    await makeSubscriber(harness.context, { email: 'known@example.com' });
    await harness.context.models.User.create({ username: 'known', email: 'known@example.com' } as never);

    await run();
    const scrape = await render();

    assert.equal(sample(scrape, 'waitlist_subscribers_processed_total{outcome="created"}'), 1);
    assert.equal(sample(scrape, 'waitlist_subscribers_processed_total{outcome="linked"}'), 1);
    assert.equal(sample(scrape, 'waitlist_welcome_emails_accepted_total'), 1, 'a linked subscriber gets no email');
    assert.equal(sample(scrape, 'waitlist_processing_duration_seconds_count{outcome="created"}'), 1);
    assert.equal(sample(scrape, 'waitlist_processing_duration_seconds_count{outcome="linked"}'), 1);
    assert.equal(sample(scrape, 'waitlist_processor_runs_total{result="completed"}'), 1);
    assert.equal(sample(scrape, 'waitlist_subscribers_pending'), 0);
  });

  test('counts SMTP failures by code', async () => {
    await makeSubscriber(harness.context);
    await harness.smtp.mode('refuse');

    await run();
    const scrape = await render();

    assert.equal(sample(scrape, 'waitlist_welcome_emails_failed_total{code="smtp_unavailable"}'), 1);
    assert.equal(sample(scrape, 'waitlist_welcome_emails_failed_total{code="smtp_rejected"}'), 0);
    assert.equal(sample(scrape, 'waitlist_subscribers_failed_total{code="smtp_unavailable",gave_up="false"}'), 1);
    assert.equal(sample(scrape, 'waitlist_smtp_send_duration_seconds_count{result="failed"}'), 1);
    assert.equal(sample(scrape, 'waitlist_processor_runs_total{result="stopped_early"}'), 1);
    assert.equal(sample(scrape, 'waitlist_subscribers_pending'), 1, 'it waits for a retry');
    assert.equal(sample(scrape, 'waitlist_subscribers_needs_attention'), 0);
  });

  test('needs attention counts gave-up subscribers', async () => {
    await makeSubscriber(harness.context, { email: 'rejected@example.com' });
    harness.smtp.recipientReply = () => ({ code: 550, message: 'No such mailbox' });

    try {
      await run();
    } finally {
      harness.smtp.recipientReply = () => undefined;
    }
    const scrape = await render();

    assert.equal(sample(scrape, 'waitlist_subscribers_failed_total{code="smtp_rejected",gave_up="true"}'), 1);
    assert.equal(sample(scrape, 'waitlist_subscribers_needs_attention'), 1);
    assert.equal(sample(scrape, 'waitlist_subscribers_pending'), 0);
  });

  test('last success appears after a completed run', async () => {
    assert.equal(sample(await render(), 'waitlist_last_successful_run_timestamp_seconds'), undefined);

    await harness.smtp.mode('refuse');
    await makeSubscriber(harness.context);
    await run();
    assert.equal(sample(await render(), 'waitlist_last_successful_run_timestamp_seconds'), undefined, 'a run stopped early is no success');

    await harness.smtp.mode('accept');
    harness.clock.advanceSeconds(3600);
    await run();
    const lastSuccess = sample(await render(), 'waitlist_last_successful_run_timestamp_seconds');
    assert.ok(lastSuccess !== undefined, 'the completed run counts');
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 60, `last success ${lastSuccess} is now`);
  });

  test('database outage reads NaN', async () => {
    const proxy = await proxyFor(harness.database.url);
    const sequelize = createSequelize(proxy.proxiedUrl(harness.database.url), 2);
    const scrapeThroughProxy = () => metrics.render(sequelize, harness.context.logger);
    const outageLines = () => harness.logs.filter((line) => String(line.msg).startsWith('metrics: the database did not respond')).length;
    const linesBefore = outageLines();

    try {
      assert.equal(sample(await scrapeThroughProxy(), 'waitlist_database_up'), 1);

      await proxy.cut();
      const down = await scrapeThroughProxy();
      assert.equal(sample(down, 'waitlist_database_up'), 0);
      assert.ok(Number.isNaN(sample(down, 'waitlist_subscribers_pending')));
      assert.ok(Number.isNaN(sample(down, 'waitlist_processing_paused')));
      await scrapeThroughProxy();
      assert.equal(outageLines() - linesBefore, 1, 'one warning per outage');

      // The pool may still hand out one failed connection attempt, so recovery is a poll with a deadline.
      await proxy.restore();
      let up = '';
      await waitFor(async () => sample((up = await scrapeThroughProxy()), 'waitlist_database_up') === 1, 10_000, 'the database gauges to come back');
      assert.equal(sample(up, 'waitlist_subscribers_pending'), 0);
      assert.ok(harness.logs.some((line) => line.msg === 'metrics: the database responds again'));
    } finally {
      await sequelize.close();
      await proxy.stop();
    }
  });
});

describe('metrics endpoint', () => {
  test('web port needs the bearer token', async () => {
    const app = createApp(harness.context);

    const missing = await request(app).get('/metrics');
    assert.equal(missing.status, 401);
    assert.match(missing.text, /Authorization: Bearer <METRICS_TOKEN>/);
    assert.doesNotMatch(missing.text, /waitlist_/);

    const wrong = await request(app).get('/metrics').set('Authorization', 'Bearer not-the-token-at-all-000');
    assert.equal(wrong.status, 401);
    const basic = await request(app).get('/metrics').set('Authorization', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`);
    assert.equal(basic.status, 401);

    const right = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    assert.equal(right.status, 200);
    assert.match(right.text, /^# HELP waitlist_/m);
  });

  test('web port has no metrics without a token', async () => {
    const context = contextWith({});
    context.metrics = undefined;

    const response = await request(createApp(context)).get('/metrics');
    assert.equal(response.status, 404);
  });

  test('metrics port serves metrics and health', async () => {
    const port = await freePort();
    const listener = await startMetricsListener(contextWith({ METRICS_PORT: String(port) }));
    assert.ok(listener, 'METRICS_PORT starts the listener');

    try {
      const metricsResponse = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(metricsResponse.status, 200, 'no token is set, so none is needed');
      assert.equal(sample(await metricsResponse.text(), 'waitlist_database_up'), 1);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 404);
    } finally {
      await listener.close();
    }
  });

  test('metrics port checks a set token', async () => {
    const port = await freePort();
    const listener = await startMetricsListener(contextWith({ METRICS_PORT: String(port), METRICS_TOKEN: TOKEN }));
    assert.ok(listener);

    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 401);
      const authorized = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(authorized.status, 200);
    } finally {
      await listener.close();
    }
  });

  test('no listener without a port', async () => {
    assert.equal(await startMetricsListener(harness.context), undefined);
  });
});
