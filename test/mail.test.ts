import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { runBatch } from '../src/run-batch.ts';
import { createHarness } from './support/context.ts';
import { makeSubscriber } from './support/factories.ts';

test('outbox keeps emails without SMTP', async () => {
  const harness = await createHarness({ EMAIL_HOST: '' });
  try {
    await makeSubscriber(harness.context, { email: 'outbox@example.com', name: 'Zoë Ångström' });

    const summary = await runBatch(harness.context, { batchSize: 5, trigger: 'test' });

    assert.equal(summary.processed, 1);
    const files = readdirSync(harness.config.email.outboxDir);
    assert.equal(files.length, 1);
    assert.match(files[0], /\.eml$/);
    const parsed = await simpleParser(readFileSync(path.join(harness.config.email.outboxDir, files[0])));
    assert.equal((parsed.to as { value: Array<{ name: string; address: string }> }).value[0].name, 'Zoë Ångström');
    assert.equal((parsed.to as { value: Array<{ name: string; address: string }> }).value[0].address, 'outbox@example.com');
    assert.match(parsed.text!, /Temporary password: \S{12}/);
    const delivery = await harness.context.models.EmailDelivery.findOne();
    assert.equal(delivery!.status, 'accepted');
    assert.match(delivery!.smtp_response!, /saved to .*\.eml/);
  } finally {
    await harness.close();
  }
});

test('send rate spaces messages', async () => {
  const harness = await createHarness({ EMAIL_RATE_LIMIT_PER_SECOND: '10', EMAIL_POOL_SIZE: '1' });
  try {
    for (let index = 0; index < 5; index++) await makeSubscriber(harness.context);
    const arrivals: number[] = [];
    harness.smtp.dataReply = () => {
      arrivals.push(Date.now());
      return undefined;
    };

    await runBatch(harness.context, { batchSize: 5, trigger: 'test' });

    assert.equal(arrivals.length, 5);
    // The first message also waits for the connection, so measure the three gaps after the second.
    const span = arrivals[4] - arrivals[1];
    // Unpaced, they arrive within a few tens of milliseconds; the bound leaves room for a loaded machine.
    assert.ok(span >= 200, `messages 2 to 5 at 10 per second span about 300 ms, got ${span} ms`);
  } finally {
    await harness.close();
  }
});

test('operator templates replace the defaults', async () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-templates-'));
  writeFileSync(path.join(folder, 'waitlist_welcome.html.ejs'), '<p>Custom hello <%= displayName %>, user <%= username %></p>');
  writeFileSync(path.join(folder, 'waitlist_welcome.txt.ejs'), 'Custom hello <%- displayName %>, password <%- password %>');
  const harness = await createHarness({ EMAIL_TEMPLATE_DIR: folder, WELCOME_EMAIL_SUBJECT: 'Hello from {site name}' });
  try {
    await makeSubscriber(harness.context, { email: 'custom@example.com', name: 'Custom Person' });

    await runBatch(harness.context, { batchSize: 5, trigger: 'test' });

    const [email] = harness.smtp.received;
    assert.equal(email.parsed.subject, 'Hello from Acme Beta');
    assert.match(email.parsed.text!, /^Custom hello Custom Person, password \S{12}/);
    assert.match(String(email.parsed.html), /Custom hello Custom Person, user custom/);
  } finally {
    await harness.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('missing template fails without an account', async () => {
  const harness = await createHarness({ EMAIL_TEMPLATE_DIR: path.join(tmpdir(), 'no-such-template-folder') });
  try {
    const subscriber = await makeSubscriber(harness.context);

    const summary = await runBatch(harness.context, { batchSize: 5, trigger: 'test' });

    assert.equal(summary.failed, 1);
    await subscriber.reload();
    assert.equal(subscriber.last_error_code, 'internal_error');
    assert.match(subscriber.last_error_message!, /could not be read.*EMAIL_TEMPLATE_DIR/);
    assert.equal(await harness.context.models.User.count(), 0);
  } finally {
    await harness.close();
  }
});
