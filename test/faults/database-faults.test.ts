import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createHarness, type TestHarness } from '../support/context.ts';
import { startOwnEmbeddedServer } from '../support/embedded-server.ts';
import { makeSubscriber } from '../support/factories.ts';
import { assertGuarantees, assertNoPasswordLeaks, checkGuarantees, type GuaranteeReport } from '../support/guarantees.ts';
import { killAllProcesses, processEnvironment, startWaitlist, type WaitlistProcess } from '../support/processes.ts';
import { sleep, waitFor } from '../support/wait.ts';

const started: WaitlistProcess[] = [];
const harnesses: TestHarness[] = [];

after(async () => {
  await killAllProcesses();
  for (const harness of harnesses) await harness.close();
});

function start(harness: TestHarness, name: string, args: string[], overrides: Record<string, string> = {}): WaitlistProcess {
  const environment = processEnvironment(harness, { PROCESSOR_CONCURRENCY: '2', PROCESSOR_INTERVAL_SECONDS: '1', PORT: '0', ...overrides });
  const child = startWaitlist({ name, args, environment });
  started.push(child);
  return child;
}

/** Counts processed subscribers through a connection of its own, which the terminations below leave alone. */
async function processedCount(client: pg.Client): Promise<number> {
  const result = await client.query<{ count: string }>('SELECT count(*) FROM waitlist_subscribers WHERE is_processed');
  return Number(result.rows[0].count);
}

const isRunFailure = (line: Record<string, unknown>) => line.msg === 'processor run failed; the next run will try again';

/**
 * Asserts that every address that received a second welcome email went through the accepted window, and that
 * the process that opened the window logged it for that subscriber.
 */
function assertRepeatsLogged(report: GuaranteeReport, children: WaitlistProcess[], subscriberIdsByEmail: Map<string, string>) {
  const logged = new Set(children.flatMap((child) => child.logLines()).filter((line) => line.code === 'commit_failed_after_send').map((line) => String(line.subscriberId)));
  for (const address of report.repeatedEmails.keys()) {
    assert.ok(logged.has(subscriberIdsByEmail.get(address)!), `the second email to ${address} was announced in the log`);
  }
  assertGuarantees(report, report.repeatedEmails.size);
}

async function subscriberIds(harness: TestHarness): Promise<Map<string, string>> {
  const subscribers = await harness.context.models.WaitlistSubscriber.findAll({ attributes: ['id', 'email'] });
  return new Map(subscribers.map((subscriber) => [subscriber.email.toLowerCase(), subscriber.id]));
}

describe('database faults', () => {
  let harness: TestHarness;

  before(async () => {
    harness = await createHarness();
    harnesses.push(harness);
  });

  test('terminated connections: worker resumes', { timeout: 90_000 }, async () => {
    const backlog = 150;
    for (let index = 0; index < backlog; index++) await makeSubscriber(harness.context);
    harness.smtp.delayMs = 20;
    const observer = new pg.Client({ connectionString: harness.database.url, application_name: 'waitlist-fault-test' });
    await observer.connect();

    try {
      // Batches larger than the backlog keep the worker busy, so terminations hit open transactions.
      const worker = start(harness, 'terminated-worker', ['process', '--interval', '1', '--batch-size', '1000']);
      let terminations = 0;
      while (terminations < 5) {
        await waitFor('progress since the last termination', async () => (await processedCount(observer)) >= (terminations + 1) * 10, { timeoutMs: 30_000 });
        const result = await observer.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'waitlist-processor' AND pid <> pg_backend_pid()`,
        );
        if ((result.rowCount ?? 0) > 0) terminations++;
        else await sleep(100);
      }

      await waitFor('the whole backlog', async () => (await processedCount(observer)) === backlog, { timeoutMs: 60_000 });
      worker.kill('SIGTERM');
      assert.deepEqual(await worker.waitForExit(15_000), { code: 0, signal: null }, 'the worker survived every termination');

      const failures = worker.logLines().filter(isRunFailure);
      assert.ok(failures.length > 0, 'the lost connections were logged as failed runs');
      assert.ok(failures.every((line) => line.level === 'ERROR'));
    } finally {
      await observer.end();
    }

    const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp);
    assertRepeatsLogged(report, started, await subscriberIds(harness));
    assert.equal(report.counts.created, backlog);
  });

  test('restarted server: both processes resume', { timeout: 120_000 }, async () => {
    const database = await startOwnEmbeddedServer();
    const own = await createHarness({}, { database });
    harnesses.push(own);

    const backlog = 120;
    for (let index = 0; index < backlog; index++) await makeSubscriber(own.context);
    own.smtp.delayMs = 30;

    const web = start(own, 'restart-web', ['serve'], { PROCESSOR_BATCH_SIZE: '1000' });
    const worker = start(own, 'restart-worker', ['process', '--interval', '1', '--batch-size', '1000']);
    const listening = await web.waitForLog('the web app address', (line) => line.msg === 'web app listening');
    const readyz = `${String(listening.url)}/readyz`;
    assert.equal((await fetch(readyz)).status, 200, 'ready before the restart');

    const ids = await subscriberIds(own);
    await waitFor('some progress', async () => (await own.context.models.WaitlistSubscriber.count({ where: { is_processed: true } })) >= 20, { timeoutMs: 30_000 });
    await database.stop();

    const down = await fetch(readyz);
    assert.equal(down.status, 503, 'not ready while the database is down');
    const readiness = await down.json();
    assert.equal(readiness.status, 'not_ready');
    assert.equal(readiness.reason, 'database_unreachable');
    const health = await fetch(`${String(listening.url)}/healthz`);
    assert.equal(health.status, 200, 'alive while the database is down');

    // Let both processes try at least two runs against the stopped server.
    await sleep(2500);
    assert.ok(web.isRunning, 'the web process kept running');
    assert.ok(worker.isRunning, 'the worker kept running');
    await database.start();

    await waitFor('ready again', async () => (await fetch(readyz)).status === 200, { timeoutMs: 60_000 });
    await waitFor('the whole backlog', async () => (await own.context.models.WaitlistSubscriber.count({ where: { is_processed: true } })) === backlog, { timeoutMs: 60_000 });

    for (const child of [web, worker]) child.kill('SIGTERM');
    for (const child of [web, worker]) assert.deepEqual(await child.waitForExit(15_000), { code: 0, signal: null }, child.output());
    for (const child of [web, worker]) assert.ok(child.logLines().some(isRunFailure), `${child.logFile} logged the failed runs`);

    const report = await checkGuarantees(own.context.database.sequelize, own.smtp);
    assertRepeatsLogged(report, [web, worker], ids);
    assert.equal(report.counts.created, backlog);
    await assertNoPasswordLeaks(own, [web, worker].flatMap((child) => [child.logFile, child.outputFile]));
  });

  test('no password in logs or tables', async () => {
    await assertNoPasswordLeaks(harness, started.flatMap((child) => [child.logFile, child.outputFile]));
  });
});
