import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { readPauseState, setPaused } from '../src/processing-pause.ts';
import { runBatch } from '../src/run-batch.ts';
import { createHarness, type TestHarness } from './support/context.ts';
import { resetAdminTables } from './support/admin.ts';
import { runWaitlist } from './support/cli.ts';
import { makeSubscriber } from './support/factories.ts';

let harness: TestHarness;

before(async () => {
  harness = await createHarness();
});

after(async () => {
  await harness.close();
});

beforeEach(async () => {
  await resetAdminTables(harness);
});

describe('processing pause', () => {
  test('paused run claims nothing', async () => {
    await makeSubscriber(harness.context);
    await setPaused(harness.context, true, 'ops@example.com');

    const summary = await runBatch(harness.context, { batchSize: 10, trigger: 'schedule' });

    assert.equal(summary.paused, true);
    assert.equal(summary.processed, 0);
    assert.equal(await harness.context.models.ProcessorRun.count(), 0, 'a paused run records no run');
    assert.equal(harness.smtp.received.length, 0);
    assert.ok(harness.logs.some((line) => line.msg === 'processing is paused: this run claims no subscriber' && line.pausedBy === 'ops@example.com'));
  });

  test('records who paused and when', async () => {
    await setPaused(harness.context, true, 'first@example.com');
    const pausedAt = harness.clock.now;
    harness.clock.advanceSeconds(60);
    await setPaused(harness.context, true, 'second@example.com');

    const state = await readPauseState(harness.context);
    assert.equal(state.pausedBy, 'first@example.com', 'pausing again keeps the first pause');
    assert.equal(state.pausedAt?.getTime(), pausedAt.getTime());

    await setPaused(harness.context, false, 'first@example.com');
    assert.deepEqual(await readPauseState(harness.context), { paused: false, pausedAt: null, pausedBy: null });
  });

  test('standalone worker obeys it', async () => {
    await makeSubscriber(harness.context, { email: 'worker@example.com' });
    await setPaused(harness.context, true, 'ops@example.com');

    const paused = await runWaitlist(harness, ['process', '--once']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /Processing is paused, so nothing was processed/);
    assert.match(paused.stdout, /Totals: 0 processed/);
    assert.equal(await harness.context.models.WaitlistSubscriber.count({ where: { is_processed: true } }), 0);

    await setPaused(harness.context, false, 'ops@example.com');
    const resumed = await runWaitlist(harness, ['process', '--once']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /Totals: 1 processed/);
    assert.equal(harness.smtp.messagesTo('worker@example.com').length, 1);
  });
});
