import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createHarness, type TestHarness } from '../support/context.ts';
import { makeSubscriber } from '../support/factories.ts';
import { assertGuarantees, assertNoPasswordLeaks, checkGuarantees } from '../support/guarantees.ts';
import { killAllProcesses, processEnvironment, resetForFaultTest, startWaitlist, type WaitlistProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';
import type { WaitlistSubscriber } from '../../models/index.ts';

// Retries wait 1 s, then 2 s, then 4 s at most, so that a test sees several attempts within seconds.
const RETRY_ENVIRONMENT = {
  PROCESSOR_RETRY_BASE_SECONDS: '1',
  PROCESSOR_RETRY_MAX_SECONDS: '4',
  PROCESSOR_MAX_ATTEMPTS: '10',
  PROCESSOR_CONCURRENCY: '1',
};
// Margin for comparing times written by the worker: the retry time and the delivery row are stamped a few ms apart.
const CLOCK_MARGIN_MS = 100;

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

function startWorker(name: string, overrides: Record<string, string> = {}): WaitlistProcess {
  const environment = processEnvironment(harness, { ...RETRY_ENVIRONMENT, ...overrides });
  const worker = startWaitlist({ name, args: ['process', '--interval', '1'], environment });
  started.push(worker);
  return worker;
}

async function stopWorker(worker: WaitlistProcess) {
  worker.kill('SIGTERM');
  assert.deepEqual(await worker.waitForExit(15_000), { code: 0, signal: null }, worker.output());
}

/** Returns the failed deliveries of a subscriber, oldest first: one row per failed attempt. */
async function failedAttempts(subscriber: WaitlistSubscriber) {
  return harness.context.models.EmailDelivery.findAll({ where: { subscriber_id: subscriber.id, status: 'failed' }, order: [['id', 'ASC']] });
}

/** Asserts that attempt n + 1 started no earlier than base * 2^(n - 1) seconds after attempt n failed. */
async function assertBackoff(subscriber: WaitlistSubscriber, attempts: number) {
  const failures = await failedAttempts(subscriber);
  const success = await harness.context.models.EmailDelivery.findOne({ where: { subscriber_id: subscriber.id, status: 'accepted' } });
  const times = [...failures.map((delivery) => delivery.created_at), ...(success ? [success.created_at] : [])];
  assert.ok(times.length >= attempts, `${times.length} attempts recorded, expected at least ${attempts}`);

  for (let index = 1; index < times.length; index++) {
    const waitedMs = times[index].getTime() - times[index - 1].getTime();
    const backoffMs = Math.min(4, 2 ** (index - 1)) * 1000;
    assert.ok(waitedMs >= backoffMs - CLOCK_MARGIN_MS, `attempt ${index + 1} came ${waitedMs} ms after attempt ${index}, before the ${backoffMs} ms backoff`);
  }
}

interface ServerFault {
  name: string;
  code: string;
  start(): Promise<void>;
  /**
   * Settings for the worker while the fault lasts. A worker started with them is stopped when the fault ends
   * and another one takes over with the usual settings.
   */
  faultEnvironment?: Record<string, string>;
}

const serverFaults: ServerFault[] = [
  { name: 'connection refused', code: 'smtp_unavailable', start: () => harness.smtp.mode('refuse') },
  {
    name: 'stall past the timeout',
    code: 'smtp_unavailable',
    start: () => harness.smtp.mode('stall'),
    // A one-second timeout would also cut short a slow reply once the server is back, and that message is then
    // sent twice, so only the worker that meets the stall has it.
    faultEnvironment: { EMAIL_TIMEOUT_SECONDS: '1' },
  },
  { name: 'drop mid-message', code: 'smtp_unavailable', start: () => harness.smtp.mode('drop') },
  {
    name: '421 reply',
    code: 'smtp_deferred',
    start: async () => {
      harness.smtp.dataReply = () => ({ code: 421, message: 'Service not available, closing channel' });
    },
  },
];

describe('SMTP server faults', () => {
  for (const fault of serverFaults) {
    test(`${fault.name} retries until delivered`, { timeout: 60_000 }, async () => {
      const oldest = await makeSubscriber(harness.context);
      const younger = [await makeSubscriber(harness.context), await makeSubscriber(harness.context)];
      await fault.start();
      let worker = startWorker(`smtp-${fault.code}`, fault.faultEnvironment);

      await waitFor('the first failed attempt', async () => (await oldest.reload()).attempts >= 1, { timeoutMs: 30_000 });
      assert.equal(oldest.last_error_code, fault.code);
      assert.equal(await harness.context.models.User.count(), 0, 'no account without its email');

      await waitFor('the second failed attempt', async () => (await oldest.reload()).attempts >= 2, { timeoutMs: 30_000 });
      assert.equal(oldest.gave_up_at, null, 'a temporary failure never gives up this early');
      assert.equal(await harness.context.models.User.count(), 0, 'still no account without its email');
      assert.equal(harness.smtp.received.length, 0);

      if (fault.faultEnvironment) {
        await stopWorker(worker);
        worker = startWorker(`smtp-${fault.code}-after`);
      }
      harness.smtp.dataReply = () => undefined;
      await harness.smtp.mode('accept');
      await waitFor('all three to be processed', async () => (await harness.context.models.WaitlistSubscriber.count({ where: { is_processed: true } })) === 3, { timeoutMs: 30_000 });
      await stopWorker(worker);

      await assertBackoff(oldest, 3);
      const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp);
      assertGuarantees(report);
      for (const subscriber of [oldest, ...younger]) assert.equal(harness.smtp.messagesTo(subscriber.email).length, 1);
    });
  }

  test('454 for one recipient spares younger', { timeout: 60_000 }, async () => {
    const deferred = await makeSubscriber(harness.context, { email: 'deferred@example.com' });
    const rejected = await makeSubscriber(harness.context, { email: 'rejected@example.com' });
    const younger = [await makeSubscriber(harness.context), await makeSubscriber(harness.context), await makeSubscriber(harness.context)];

    let deferrals = 0;
    harness.smtp.dataReply = (envelopeTo) => {
      if (!envelopeTo.includes('deferred@example.com') || deferrals >= 2) return undefined;
      deferrals++;
      return { code: 454, message: 'Temporary failure, try again later' };
    };
    harness.smtp.recipientReply = (address) => (address === 'rejected@example.com' ? { code: 550, message: 'No such user here' } : undefined);
    const worker = startWorker('smtp-per-recipient');

    await waitFor('the deferred subscriber to be processed', async () => (await deferred.reload()).is_processed, { timeoutMs: 30_000 });
    // A few more runs pass, in which the rejected subscriber must not be tried again.
    const runsSoFar = await harness.context.models.ProcessorRun.count();
    await waitFor('three more runs', async () => (await harness.context.models.ProcessorRun.count()) >= runsSoFar + 3, { timeoutMs: 30_000 });
    await stopWorker(worker);

    assert.equal(deferrals, 2);
    await assertBackoff(deferred, 3);
    for (const subscriber of younger) {
      await subscriber.reload();
      assert.ok(subscriber.processed_at! < deferred.processed_at!, 'younger subscribers were processed while the oldest waited');
    }

    await rejected.reload();
    assert.equal(rejected.attempts, 1, 'a permanent rejection is tried once');
    assert.equal(rejected.last_error_code, 'smtp_rejected');
    assert.ok(rejected.gave_up_at, 'and flagged for an operator');
    assert.equal((await failedAttempts(rejected)).length, 1);
    assert.equal(harness.smtp.started.filter((address) => address === 'rejected@example.com').length, 1, 'the server saw one attempt for it');

    const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp);
    assertGuarantees(report);
    assert.deepEqual(report.counts, { created: 4, linked: 0, gaveUp: 1, pending: 0 });
  });

  test('no password in logs or tables', async () => {
    await assertNoPasswordLeaks(harness, started.flatMap((worker) => [worker.logFile, worker.outputFile]));
  });
});
