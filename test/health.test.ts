import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { AppContext } from '../src/context.ts';
import { createSequelize } from '../src/database/connect.ts';
import { createApp } from '../src/http/app.ts';
import { sessionOptions } from '../src/http/session.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { proxyFor } from './support/tcp-proxy.ts';

let harness: TestHarness;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await harness.close();
});

describe('health checks', () => {
  test('healthz and readyz answer 200', async () => {
    const app = createApp(harness.context);

    const health = await request(app).get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    assert.equal(health.headers['cache-control'], 'no-store');

    const ready = await request(app).get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });

  test('readyz names pending migrations', async () => {
    const { sequelize } = harness.context.database;
    const [[latest]] = (await sequelize.query('SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1')) as [Array<{ name: string }>, unknown];
    await sequelize.query('DELETE FROM schema_migrations WHERE name = $1', { bind: [latest.name] });

    try {
      const ready = await request(createApp(harness.context)).get('/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.reason, 'migrations_pending');
      assert.ok(ready.body.message.includes(latest.name), ready.body.message);
      assert.match(ready.body.message, /Run "npx waitlist migrate"/);
    } finally {
      await sequelize.query('INSERT INTO schema_migrations (name) VALUES ($1)', { bind: [latest.name] });
    }
  });

  test('readyz reports an unreachable database once', async () => {
    const proxy = await proxyFor(harness.database.url);
    const sequelize = createSequelize(proxy.proxiedUrl(harness.database.url), 2);
    const context: AppContext = { ...harness.context, database: { ...harness.context.database, sequelize } };
    const app = createApp(context);
    const notReadyLines = () => harness.logs.filter((line) => line.msg === 'not ready' && line.reason === 'database_unreachable').length;

    try {
      assert.equal((await request(app).get('/readyz')).status, 200);
      await proxy.cut();

      const first = await request(app).get('/readyz');
      assert.equal(first.status, 503);
      assert.deepEqual(first.body, {
        status: 'not_ready',
        reason: 'database_unreachable',
        message: 'The database did not respond; the service log has the error.',
      });
      assert.equal((await request(app).get('/readyz')).status, 503);
      assert.equal(notReadyLines(), 1, 'one log line per outage, not per probe');
      assert.equal((await request(app).get('/healthz')).status, 200);

      // The pool may still hand out one failed connection attempt, so recovery is a poll with a deadline.
      await proxy.restore();
      await waitFor(async () => (await request(app).get('/readyz')).status === 200, 10_000, 'readyz to answer 200 again');
      assert.ok(harness.logs.some((line) => line.msg === 'ready again: the database responds and is migrated'));
    } finally {
      await sequelize.close();
      await proxy.stop();
    }
  });
});

describe('database outage', () => {
  test('session pool survives a dropped connection', async () => {
    const proxy = await proxyFor(harness.database.url);
    const cleanups: Array<() => Promise<void> | void> = [];
    const database = { ...harness.context.database, url: proxy.proxiedUrl(harness.database.url), onClose: (cleanup: () => Promise<void> | void) => cleanups.push(cleanup) };
    const store = sessionOptions({ ...harness.context, database }, { cookieName: 'test.sid' }).store!;
    const readSession = () => new Promise<unknown>((resolve, reject) => store.get('no-such-session', (error, session) => (error ? reject(error) : resolve(session))));
    const failedLines = () => harness.logs.filter((line) => line.msg === 'session store: an idle database connection failed').length;

    try {
      assert.equal(await readSession(), undefined, 'no such session, and the pool now holds an idle connection');
      await proxy.cut();
      await waitFor(async () => failedLines() > 0, 5000, 'the pool to report the dropped connection');

      await proxy.restore();
      await waitFor(async () => (await readSession().then(() => true, () => false)), 10_000, 'the session store to read again');
    } finally {
      for (const cleanup of cleanups) await cleanup();
      await proxy.stop();
    }
  });
});
