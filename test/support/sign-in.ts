import assert from 'node:assert/strict';
import type { AppContext } from '../../src/context.ts';
import { runBatch } from '../../src/run-batch.ts';
import type { TestHarness } from './context.ts';
import { makeSubscriber } from './factories.ts';

/** Empties every table the sign-in tests write to, so that each test starts from nothing. */
export async function resetSignInTables(harness: TestHarness): Promise<void> {
  await harness.context.database.sequelize.query(
    'TRUNCATE email_deliveries, waitlist_subscribers, password_tokens, users, processor_runs, sign_in_throttles, http_sessions RESTART IDENTITY CASCADE',
  );
  harness.smtp.received.length = 0;
  harness.smtp.recipientReply = () => undefined;
  harness.smtp.dataReply = () => undefined;
  await harness.smtp.mode('accept');
}

/** Returns a copy of the context whose configuration has `auth` settings changed. */
export function withAuthConfig(context: AppContext, auth: Partial<AppContext['config']['auth']>): AppContext {
  return { ...context, config: { ...context.config, auth: { ...context.config.auth, ...auth } } };
}

export interface CreatedAccount {
  email: string;
  username: string;
  userId: string;
  /** The welcome email's text part, as the person received it. */
  text: string;
}

/** Puts a subscriber on the waitlist and runs the real processor, which creates the account and sends the welcome email. */
export async function processNewSubscriber(context: AppContext, harness: TestHarness, email: string): Promise<CreatedAccount> {
  await makeSubscriber(context, { email });
  const summary = await runBatch(context, { batchSize: 1, trigger: 'test' });
  assert.equal(summary.processed, 1, 'the processor created the account');

  const created = summary.outcomes[0] as { userId: string; username: string };
  const [message] = harness.smtp.messagesTo(email);
  assert.ok(message, `a welcome email reached ${email}`);
  return { email, username: created.username, userId: created.userId, text: message.parsed.text ?? '' };
}

/** Reads the temporary password out of a welcome email's text part. */
export function temporaryPasswordFrom(text: string): string {
  const match = /Temporary password: (\S+)/.exec(text);
  assert.ok(match, 'the welcome email names a temporary password');
  return match[1];
}

/** Reads the token of the first set-password or reset link in an email's text part. */
export function tokenFrom(text: string, path: '/auth/set-password' | '/auth/reset-password'): string {
  const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(text);
  assert.ok(match, `the email contains a ${path} link`);
  return match[1];
}

/** Polls `check` every 20 ms until it returns true, failing after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, description: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
