import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Op, QueryTypes } from 'sequelize';
import { startScheduler, type Scheduler } from '../../src/scheduler.ts';
import { createHarness, type TestHarness } from '../support/context.ts';
import { assertGuarantees, assertNoPasswordLeaks, checkGuarantees } from '../support/guarantees.ts';
import { isRunFinishedLine, killAllProcesses, processEnvironment, startWaitlist, type WaitlistProcess } from '../support/processes.ts';
import { waitForCount } from '../support/wait.ts';

const SUBSCRIBERS = 1000;
const WORKERS = 4;
const BATCH_SIZE = 50;

let harness: TestHarness;
let scheduler: Scheduler | undefined;
const workers: WaitlistProcess[] = [];

before(async () => {
  harness = await createHarness({ PROCESSOR_CONCURRENCY: '4', EMAIL_TIMEOUT_SECONDS: '30' });
});

after(async () => {
  await scheduler?.stop();
  await killAllProcesses();
  await harness.close();
});

/**
 * Adds the backlog in one statement, oldest first. Every tenth address shares the local part "sam",
 * so that concurrent processors compete for the same numbered usernames.
 */
async function addBacklog(count: number) {
  await harness.context.database.sequelize.query(
    `INSERT INTO waitlist_subscribers (email, name, first_name, last_name, created_at)
     SELECT CASE WHEN n % 10 = 0 THEN 'sam@example-' || n || '.com' ELSE 'person' || n || '@example.com' END,
            'Person ' || n, 'Person', n::text, timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
     FROM generate_series(1, $1) AS n`,
    { bind: [count] },
  );
}

describe('concurrent processors', () => {
  test('four workers and scheduler share 1,000', { timeout: 180_000 }, async () => {
    const environment = processEnvironment(harness, { PROCESSOR_CONCURRENCY: '4' });
    for (let index = 1; index <= WORKERS; index++) {
      workers.push(startWaitlist({ name: `worker-${index}`, args: ['process', '--interval', '1', '--batch-size', String(BATCH_SIZE)], environment }));
    }
    // Each worker's first run finds nothing, so all of them are polling before the backlog appears.
    await Promise.all(workers.map((worker) => worker.waitForLog('the first run', isRunFinishedLine)));
    scheduler = startScheduler(harness.context, { intervalSeconds: 1, batchSize: BATCH_SIZE, trigger: 'schedule' });

    await addBacklog(SUBSCRIBERS);
    // The SMTP server accepts everything, so any recorded error is a fault of the processors: the test then stops
    // waiting (as on a stall) and the guarantee checks below report what went wrong.
    const { WaitlistSubscriber } = harness.context.models;
    await waitForCount(() => WaitlistSubscriber.count({ where: { is_processed: true } }), SUBSCRIBERS, {
      abortIf: async () => (await WaitlistSubscriber.count({ where: { last_error_code: { [Op.ne]: null } } })) > 0,
    });

    for (const worker of workers) worker.kill('SIGTERM');
    const exits = await Promise.all(workers.map((worker) => worker.waitForExit(15_000)));
    await scheduler.stop();
    scheduler = undefined;

    assert.deepEqual(exits, workers.map(() => ({ code: 0, signal: null })), 'every worker stopped cleanly on SIGTERM');

    const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp);
    assertGuarantees(report);
    assert.equal(report.counts.created, SUBSCRIBERS);
    assert.equal(await harness.context.models.User.count(), SUBSCRIBERS);
    assert.equal(harness.smtp.received.length, SUBSCRIBERS, 'one welcome email per subscriber');
    const recipients = new Set(harness.smtp.received.flatMap((email) => email.envelopeTo));
    assert.equal(recipients.size, SUBSCRIBERS, 'nobody received two welcome emails');

    const usernames = await harness.context.database.sequelize.query<{ username: string }>(
      "SELECT username FROM users WHERE username LIKE 'sam%' ORDER BY length(username), username",
      { type: QueryTypes.SELECT },
    );
    assert.equal(usernames.length, SUBSCRIBERS / 10);
    assert.equal(new Set(usernames.map((row) => row.username)).size, SUBSCRIBERS / 10, 'colliding usernames were numbered apart');
  });

  test('every processor did a share', async () => {
    const runs = await harness.context.database.sequelize.query<{ pid: number; trigger: string; processed: string; existing: string; failed: string }>(
      'SELECT pid, trigger, sum(processed) AS processed, sum(existing) AS existing, sum(failed) AS failed FROM processor_runs GROUP BY pid, trigger',
      { type: QueryTypes.SELECT },
    );

    const total = (key: 'processed' | 'existing' | 'failed') => runs.reduce((sum, run) => sum + Number(run[key]), 0);
    assert.equal(total('processed'), SUBSCRIBERS, 'each subscriber was processed by exactly one run');
    assert.equal(total('existing'), 0, 'no processor found an account that another had just created');
    assert.equal(total('failed'), 0);

    const sharers = runs.filter((run) => Number(run.processed) > 0);
    const workerPids = new Set(workers.map((worker) => worker.pid));
    assert.equal(sharers.filter((run) => workerPids.has(run.pid)).length, WORKERS, 'each worker process created accounts');
    assert.ok(sharers.some((run) => run.trigger === 'schedule' && run.pid === process.pid), 'the in-process scheduler created accounts');
  });

  test('no password in logs or tables', async () => {
    await assertNoPasswordLeaks(harness, workers.flatMap((worker) => [worker.logFile, worker.outputFile]));
  });
});
