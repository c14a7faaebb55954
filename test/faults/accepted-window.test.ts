import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { QueryTypes } from 'sequelize';
import { verifyPassword } from '../../src/passwords.ts';
import { createHarness, type TestHarness } from '../support/context.ts';
import { makeSubscriber } from '../support/factories.ts';
import { assertGuarantees, assertNoPasswordLeaks, checkGuarantees } from '../support/guarantees.ts';
import { killAllProcesses, processEnvironment, resetForFaultTest, startWaitlist, type WaitlistProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

// The one window in which a person gets two welcome emails: the SMTP server accepted the first, and the
// transaction that records it never committed. These tests open that window on purpose.

let harness: TestHarness;
const started: WaitlistProcess[] = [];

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await killAllProcesses();
  await harness.close();
});

beforeEach(async () => {
  await resetForFaultTest(harness);
});

function startWorker(name: string): WaitlistProcess {
  const worker = startWaitlist({ name, args: ['process', '--interval', '1'], environment: processEnvironment(harness, { PROCESSOR_CONCURRENCY: '1' }) });
  started.push(worker);
  return worker;
}

/** Returns the backend that holds the claim: the only connection with a row lock on waitlist_subscribers. */
async function claimingBackend(): Promise<number | undefined> {
  const rows = await harness.context.database.sequelize.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
     WHERE c.relname = 'waitlist_subscribers' AND l.mode = 'RowShareLock'
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    { type: QueryTypes.SELECT },
  );
  return rows[0]?.pid;
}

function passwordIn(text: string | undefined): string {
  return /Temporary password: (\S+)/.exec(text ?? '')?.[1] ?? '';
}

/** Checks that the person got two emails, and that only the second one's password opens the account. */
async function assertSecondEmailWorks(address: string) {
  const emails = harness.smtp.messagesTo(address);
  assert.equal(emails.length, 2, 'the person received a second welcome email');

  const user = await harness.context.models.User.scope('withPassword').findOne({ where: { email: address } });
  assert.ok(user, 'the account exists once');
  assert.equal(await verifyPassword(user.password_hash!, passwordIn(emails[0].parsed.text)), false, 'the first password does not work');
  assert.equal(await verifyPassword(user.password_hash!, passwordIn(emails[1].parsed.text)), true, 'the second password works');
}

describe('accepted email without commit', () => {
  test('lost connection after acceptance resends', { timeout: 60_000 }, async () => {
    const first = await makeSubscriber(harness.context, { email: 'window-db@example.com' });
    await makeSubscriber(harness.context);
    await makeSubscriber(harness.context);

    let terminated: number | undefined;
    harness.smtp.beforeReply = async () => {
      if (terminated !== undefined) return;
      terminated = await waitFor('the claiming backend', claimingBackend);
      await harness.context.database.sequelize.query('SELECT pg_terminate_backend($1)', { bind: [terminated] });
    };

    const worker = startWorker('window-db-worker');
    await waitFor('all three subscribers to be processed', async () => (await harness.context.models.WaitlistSubscriber.count({ where: { is_processed: true } })) === 3, { timeoutMs: 30_000 });
    worker.kill('SIGTERM');
    assert.deepEqual(await worker.waitForExit(15_000), { code: 0, signal: null }, 'the worker kept running and stopped cleanly');

    assert.ok(terminated, 'the claim\'s connection was terminated while the server accepted the email');
    await assertSecondEmailWorks(first.email);
    const logged = worker.logLines().find((line) => line.code === 'commit_failed_after_send');
    assert.ok(logged, 'the worker logged that an accepted email was not recorded');
    assert.equal(logged.subscriberId, first.id);

    const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp);
    assertGuarantees(report, 1);
    assert.equal(report.counts.created, 3);
  });

  test('worker killed before the reply resends', { timeout: 60_000 }, async () => {
    const first = await makeSubscriber(harness.context, { email: 'window-kill@example.com' });
    await makeSubscriber(harness.context);

    const crashing = startWorker('window-killed-worker');
    let killed = false;
    harness.smtp.beforeReply = async () => {
      if (killed) return;
      killed = true;
      crashing.kill('SIGKILL');
      await crashing.exited;
    };

    await waitFor('the server to keep the dead worker\'s message', () => harness.smtp.messagesTo(first.email).length === 1, { timeoutMs: 30_000 });
    assert.equal(crashing.exitStatus?.signal, 'SIGKILL');

    const restarted = startWorker('window-restarted-worker');
    await waitFor('both subscribers to be processed', async () => (await harness.context.models.WaitlistSubscriber.count({ where: { is_processed: true } })) === 2, { timeoutMs: 30_000 });
    restarted.kill('SIGTERM');
    assert.deepEqual(await restarted.waitForExit(15_000), { code: 0, signal: null });

    await assertSecondEmailWorks(first.email);
    const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp);
    assertGuarantees(report, 1);
  });

  test('no password in logs or tables', async () => {
    await assertNoPasswordLeaks(harness, started.flatMap((worker) => [worker.logFile, worker.outputFile]));
  });
});
