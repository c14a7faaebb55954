import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createHarness, type TestHarness } from '../support/context.ts';
import { makeSubscriber } from '../support/factories.ts';
import { assertGuarantees, assertNoPasswordLeaks, checkGuarantees } from '../support/guarantees.ts';
import { killAllProcesses, processEnvironment, resetForFaultTest, startWaitlist, type WaitlistProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const BACKLOG = 30;
// Long enough that several messages are in flight when SIGTERM arrives, short enough to finish them quickly.
const SMTP_DELAY_MS = 300;

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
  harness.smtp.delayMs = SMTP_DELAY_MS;
});

function start(name: string, args: string[], overrides: Record<string, string> = {}): WaitlistProcess {
  const environment = processEnvironment(harness, { PROCESSOR_CONCURRENCY: '4', PORT: '0', PROCESSOR_INTERVAL_SECONDS: '60', ...overrides });
  const child = startWaitlist({ name, args, environment });
  started.push(child);
  return child;
}

const commands: Array<[string, string[]]> = [
  ['process', ['process', '--interval', '60', '--batch-size', String(BACKLOG)]],
  ['serve', ['serve']],
];

describe('graceful stop', () => {
  for (const [name, args] of commands) {
    test(`SIGTERM mid-batch finishes in-flight (${name})`, { timeout: 60_000 }, async () => {
      for (let index = 0; index < BACKLOG; index++) await makeSubscriber(harness.context);
      const child = start(`stopping-${name}`, args, { PROCESSOR_BATCH_SIZE: String(BACKLOG) });

      await waitFor('four messages in flight', () => harness.smtp.started.length >= 4, { timeoutMs: 30_000 });
      child.kill('SIGTERM');
      const inFlight = [...harness.smtp.started];
      const status = await child.waitForExit(10_000);

      assert.deepEqual(status, { code: 0, signal: null }, child.output());
      for (const address of inFlight) {
        assert.equal(harness.smtp.messagesTo(address).length, 1, `the message to ${address}, in flight at SIGTERM, was finished`);
      }

      const report = await checkGuarantees(harness.context.database.sequelize, harness.smtp, { allowPending: true });
      assertGuarantees(report);
      assert.ok(report.counts.created >= inFlight.length);
      assert.ok(report.counts.pending > 0, 'no subscriber was claimed after SIGTERM');
      assert.equal(report.counts.created + report.counts.pending, BACKLOG);
      assert.ok(child.logLines().some((line) => line.msg === 'stopping: finishing the subscribers in flight'));
    });
  }

  test('SIGTERM during a stalled send', { timeout: 60_000 }, async () => {
    const subscriber = await makeSubscriber(harness.context, { email: 'stalled@example.com' });
    await harness.smtp.mode('stall');
    const child = start('stopping-stalled', ['process', '--interval', '60'], { EMAIL_TIMEOUT_SECONDS: '1' });

    await waitFor('the message to start', () => harness.smtp.started.includes('stalled@example.com'), { timeoutMs: 30_000 });
    child.kill('SIGTERM');
    const status = await child.waitForExit(10_000);

    assert.deepEqual(status, { code: 0, signal: null }, child.output());
    await subscriber.reload();
    assert.equal(subscriber.is_processed, false);
    assert.equal(subscriber.attempts, 1, 'the timed-out attempt was recorded before the exit');
    assert.equal(subscriber.last_error_code, 'smtp_unavailable');
    assert.ok(subscriber.next_attempt_at, 'the subscriber waits for a retry');
    assert.equal(await harness.context.models.User.count(), 0, 'no account without its email');
  });

  test('no password in logs or tables', async () => {
    await assertNoPasswordLeaks(harness, started.flatMap((child) => [child.logFile, child.outputFile]));
  });
});
