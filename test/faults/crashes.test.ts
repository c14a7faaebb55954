import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueryTypes } from 'sequelize';
import { createHarness, type TestHarness } from '../support/context.ts';
import { makeSubscriber } from '../support/factories.ts';
import { assertGuarantees, assertNoPasswordLeaks, checkGuarantees } from '../support/guarantees.ts';
import { isStartLine, killAllProcesses, processEnvironment, startWaitlist, type WaitlistProcess } from '../support/processes.ts';
import { seededRandom, sleep, waitFor } from '../support/wait.ts';

const KILLS = 20;
const BACKLOG = 300;
// The backlog grows by TOP_UP whenever fewer than LOW_WATER subscribers wait, so that every kill finds work.
const LOW_WATER = 60;
const TOP_UP = 100;
const CONCURRENCY = 2;
// Set FAULT_SEED to replay the kill schedule of a failed run; the seed is printed with the results.
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);

let harness: TestHarness;
const started: WaitlistProcess[] = [];

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await killAllProcesses();
  await harness.close();
});

/** Counts the open transactions of worker processes on this test's database (the harness's own connections are idle). */
async function openWorkerTransactions(): Promise<number> {
  const [row] = await harness.context.database.sequelize.query<{ count: string }>(
    `SELECT count(*) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND application_name = 'waitlist-processor' AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')`,
    { type: QueryTypes.SELECT },
  );
  return Number(row.count);
}

async function unprocessedCount(): Promise<number> {
  return harness.context.models.WaitlistSubscriber.count({ where: { is_processed: false, gave_up_at: null } });
}

/** Adds `count` subscribers, every fortieth with an existing account, and returns the ids of those accounts. */
async function addBacklog(count: number): Promise<string[]> {
  const existingUserIds: string[] = [];
  for (let index = 0; index < count; index++) {
    const subscriber = await makeSubscriber(harness.context);
    // Crashes should also hit the linking path.
    if (index % 40 === 0) {
      const user = await harness.context.models.User.create({ username: `existing-${subscriber.id}`, email: subscriber.email, password_hash: null, last_name: null, phone_number: null, password_expires_at: null, last_login: null });
      existingUserIds.push(user.id);
    }
  }
  return existingUserIds;
}

describe('worker crashes', () => {
  test('SIGKILL at random points loses nothing', { timeout: 180_000 }, async (t) => {
    const random = seededRandom(SEED);
    const existingUserIds = new Set(await addBacklog(BACKLOG));
    let total = BACKLOG;
    harness.smtp.delayMs = 20;

    const environment = processEnvironment(harness, { PROCESSOR_CONCURRENCY: String(CONCURRENCY) });
    const args = ['process', '--interval', '1', '--batch-size', '1000'];
    const killsMidTransaction: number[] = [];

    for (let kill = 1; kill <= KILLS; kill++) {
      if ((await unprocessedCount()) < LOW_WATER) {
        for (const id of await addBacklog(TOP_UP)) existingUserIds.add(id);
        total += TOP_UP;
      }
      const worker = startWaitlist({ name: `crashing-worker-${kill}`, args, environment });
      started.push(worker);

      // Most kills land in the middle of a batch, once the worker has a transaction open; every fifth lands during start-up.
      if (kill % 5 === 0) {
        await sleep(random() * 800);
      } else {
        await worker.waitForLog('the start', isStartLine);
        await waitFor('a transaction of the new worker', async () => (await openWorkerTransactions()) > 0, { timeoutMs: 60_000 });
        await sleep(random() * 500);
      }

      const open = await openWorkerTransactions();
      worker.kill('SIGKILL');
      const status = await worker.waitForExit(10_000);
      assert.equal(status.signal, 'SIGKILL', `worker ${kill} was killed, not ended by itself: ${worker.output()}`);
      if (open > 0) killsMidTransaction.push(kill);

      // A dead worker's claims end with its connections: no transaction of it stays open.
      await waitFor('the killed worker\'s transactions to end', async () => (await openWorkerTransactions()) === 0, { timeoutMs: 10_000 });
    }

    const finisher = startWaitlist({ name: 'finishing-worker', args: ['process', '--once', '--batch-size', '10000'], environment });
    started.push(finisher);
    const status = await finisher.waitForExit(120_000);
    assert.deepEqual(status, { code: 0, signal: null }, finisher.output());

    const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp, { existingUserIds });
    t.diagnostic(`seed ${SEED}: ${KILLS} kills, ${killsMidTransaction.length} with a transaction open, ${total} subscribers, ${report.repeatedEmails.size} repeated emails`);

    // Each kill can end at most CONCURRENCY subscribers between the accepted email and the commit.
    assertGuarantees(report, killsMidTransaction.length * CONCURRENCY);
    assert.equal(report.counts.created + report.counts.linked, total, 'every subscriber was processed');
    assert.equal(report.counts.linked, existingUserIds.size);
    assert.ok(killsMidTransaction.length >= KILLS / 2, `${killsMidTransaction.length} of ${KILLS} kills hit an open transaction`);
  });

  test('no password in logs or tables', async () => {
    await assertNoPasswordLeaks(harness, started.flatMap((worker) => [worker.logFile, worker.outputFile]));
  });
});
