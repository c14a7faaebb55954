import type { Transaction } from 'sequelize';
import { claimSubscriber, type ClaimedSubscriber, type ClaimFilter } from './claim-subscriber.ts';
import type { AppContext } from './context.ts';
import { createUserForSubscriber, startAccountSavepoint, type CreatedUser } from './create-account.ts';
import { TransactionSql } from './database/direct-sql.ts';
import { toError } from './logger.ts';
import { classifySendError, type SendFailure } from './mail/send-errors.ts';
import { renderWelcomeEmail } from './mail/welcome-email.ts';
import { timeWelcomeEmail } from './metrics.ts';
import { markLinked, recordAttemptFailed, recordWelcomeAccepted } from './processing-records.ts';
import { decideRetry } from './retry-policy.ts';
import { issueSetPasswordLink, newTemporaryPassword, type TemporaryPassword } from './welcome-credentials.ts';

/** Result of processing one claimed subscriber, before its transaction commits. */
type ClaimOutcome =
  | { result: 'created'; subscriberId: string; userId: string; username: string }
  | { result: 'linked'; subscriberId: string; userId: string }
  | { result: 'failed'; subscriberId: string; code: string; message: string; gaveUp: boolean; serverWide: boolean };

/** Result of processing one subscriber. */
export type ProcessOutcome = ClaimOutcome & {
  /** Milliseconds from the claim to the commit: how long the subscriber's row stayed locked. */
  lockedMs: number;
};

/** A failure while creating the account or its email, carried to the place that records it. */
class ProcessingFailure extends Error {
  constructor(readonly failure: SendFailure) {
    super(failure.message);
  }
}

/**
 * Claims the next subscriber that `filter` allows and turns it into a user account with a welcome email.
 * Returns undefined when no subscriber is left to claim. This is the one place that processes a subscriber:
 * the schedule, the command line and the admin actions all call it.
 *
 * Invariant: the user, the processed mark and the accepted delivery are committed together, and only after
 * the SMTP server accepted the welcome email. The transaction may still not commit: the commit fails, the
 * connection is lost, or recording the delivery fails. The person then got an email whose account does not
 * exist, and the next attempt sends a second email with the password that works. Each such case is logged
 * with the code `commit_failed_after_send`.
 */
export async function processNextSubscriber(context: AppContext, filter: ClaimFilter = {}): Promise<ProcessOutcome | undefined> {
  const startedAt = performance.now();
  const transaction = await context.database.sequelize.transaction();
  const attempt: Attempt = { emailAccepted: false };
  let claimedAt = 0;
  let claimOutcome: ClaimOutcome;

  try {
    const sql = new TransactionSql(transaction);
    const subscriber = await claimSubscriber(context, sql, filter);
    if (!subscriber) {
      await transaction.rollback();
      return undefined;
    }
    claimedAt = performance.now();
    attempt.subscriberId = subscriber.id;
    claimOutcome = await processClaimed(context, sql, subscriber, transaction, attempt);
  } catch (error) {
    await transaction.rollback().catch(() => undefined);
    if (attempt.emailAccepted) logAcceptedNotRecorded(context, attempt, error);
    throw error;
  }

  try {
    await transaction.commit();
  } catch (error) {
    if (attempt.emailAccepted) logAcceptedNotRecorded(context, attempt, error);
    throw error;
  }

  const outcome: ProcessOutcome = { ...claimOutcome, lockedMs: Math.round(performance.now() - claimedAt) };
  if (attempt.emailAccepted && outcome.result === 'failed') logAcceptedNotRecorded(context, attempt, new Error(outcome.message));
  logOutcome(context, outcome);
  context.metrics?.recordOutcome(outcome, (performance.now() - startedAt) / 1000);
  return outcome;
}

/** Progress of one call of processNextSubscriber, for the log line when it fails halfway. */
interface Attempt {
  subscriberId?: string;
  /** Set once the SMTP server accepted the welcome email: from then on, a failure means a second email later. */
  emailAccepted: boolean;
}

function logAcceptedNotRecorded(context: AppContext, attempt: Attempt, error: unknown) {
  context.logger.error(
    { subscriberId: attempt.subscriberId, code: 'commit_failed_after_send', err: toError(error) },
    'welcome email accepted but its record may not be committed: if it is not, the next attempt sends a second email with a new password',
  );
}

// Returning to it undoes the new user, its credential and the delivery record, and keeps the claim's row lock.
const ACCOUNT_SAVEPOINT = 'welcome_account';

async function processClaimed(
  context: AppContext,
  sql: TransactionSql,
  subscriber: ClaimedSubscriber,
  transaction: Transaction,
  attempt: Attempt,
): Promise<ClaimOutcome> {
  if (subscriber.existing_user_id) {
    await markLinked(sql, subscriber.id, subscriber.existing_user_id, context.now());
    return { result: 'linked', subscriberId: subscriber.id, userId: subscriber.existing_user_id };
  }

  // Hashing takes no lock and needs no database, so it comes before the savepoint.
  const password = context.config.auth.welcomeCredential === 'password' ? await newTemporaryPassword(context) : undefined;

  await startAccountSavepoint(sql, ACCOUNT_SAVEPOINT);
  try {
    const user = await createAccountAndSendWelcome(context, sql, subscriber, password, transaction, attempt);
    return { result: 'created', subscriberId: subscriber.id, userId: user.id, username: user.username };
  } catch (error) {
    // When even this fails (a lost connection), the whole transaction is gone: report the first error.
    const rolledBack = await sql.script(`ROLLBACK TO SAVEPOINT ${ACCOUNT_SAVEPOINT}`).then(
      () => true,
      () => false,
    );
    if (!rolledBack) throw error;

    const failure = error instanceof ProcessingFailure ? error.failure : unexpectedFailure(error);
    return recordFailure(context, sql, subscriber, failure);
  }
}

async function createAccountAndSendWelcome(
  context: AppContext,
  sql: TransactionSql,
  subscriber: ClaimedSubscriber,
  password: TemporaryPassword | undefined,
  transaction: Transaction,
  attempt: Attempt,
): Promise<CreatedUser> {
  const account = { passwordHash: password?.hash ?? null, passwordExpiresAt: password?.credential.expiresAt ?? null };
  const user = await createUserForSubscriber(context, sql, ACCOUNT_SAVEPOINT, subscriber, account);
  const credential = password?.credential ?? (await issueSetPasswordLink(context, user.id, transaction));

  const email = await renderWelcomeEmail(context, { subscriber, user, credential });
  let accepted;
  try {
    accepted = await timeWelcomeEmail(context.metrics, () => context.mailer.send(email));
  } catch (error) {
    throw new ProcessingFailure(classifySendError(error));
  }
  attempt.emailAccepted = true;

  const welcome = { subscriberId: subscriber.id, userId: user.id, recipient: subscriber.email, messageId: accepted.messageId, smtpResponse: accepted.response };
  await recordWelcomeAccepted(sql, welcome, context.now());
  return user;
}

/** Records the failure while the claim's row lock is still held, with when to try again or that processing gave up. */
async function recordFailure(context: AppContext, sql: TransactionSql, subscriber: ClaimedSubscriber, failure: SendFailure): Promise<ClaimOutcome> {
  const attempts = subscriber.attempts + 1;
  const now = context.now();
  const decision = decideRetry(failure, attempts, context.config.processor, now);

  await recordAttemptFailed(sql, {
    subscriberId: subscriber.id,
    recipient: subscriber.email,
    attempts,
    code: failure.code,
    message: failure.message,
    smtpResponse: failure.responseCode ? String(failure.responseCode) : null,
    nextAttemptAt: decision.giveUp ? null : decision.nextAttemptAt,
    gaveUpAt: decision.giveUp ? now : null,
    isDelivery: failure.code !== INTERNAL_ERROR,
  });

  return {
    result: 'failed',
    subscriberId: subscriber.id,
    code: failure.code,
    message: failure.message,
    gaveUp: decision.giveUp,
    serverWide: failure.serverWide,
  };
}

/** Code of a failure in the service itself rather than in sending. */
const INTERNAL_ERROR = 'internal_error';

function unexpectedFailure(thrown: unknown): SendFailure {
  const error = toError(thrown);
  return { code: INTERNAL_ERROR, message: error.message.slice(0, 1000), temporary: true, serverWide: false };
}

function logOutcome(context: AppContext, outcome: ProcessOutcome) {
  const { logger } = context;

  if (outcome.result === 'created') {
    logger.info({ subscriberId: outcome.subscriberId, userId: outcome.userId, outcome: 'created', lockedMs: outcome.lockedMs }, 'account created and welcome email accepted');
  } else if (outcome.result === 'linked') {
    logger.info({ subscriberId: outcome.subscriberId, userId: outcome.userId, outcome: 'linked', lockedMs: outcome.lockedMs }, 'existing account found and linked; no email sent');
  } else {
    const level = outcome.gaveUp ? 'error' : 'warn';
    logger[level](
      { subscriberId: outcome.subscriberId, code: outcome.code, gaveUp: outcome.gaveUp, outcome: 'failed', lockedMs: outcome.lockedMs },
      outcome.gaveUp ? 'processing failed; gave up, an operator must retry' : 'processing failed; will retry later',
    );
  }
}
