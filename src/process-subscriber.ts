import type { Transaction } from 'sequelize';
import { claimSubscriber, type ClaimFilter } from './claim-subscriber.ts';
import type { AppContext } from './context.ts';
import { createUserForSubscriber, findUserByEmail } from './create-account.ts';
import { toError } from './logger.ts';
import { classifySendError, type SendFailure } from './mail/send-errors.ts';
import { renderWelcomeEmail } from './mail/welcome-email.ts';
import { timeWelcomeEmail } from './metrics.ts';
import { decideRetry } from './retry-policy.ts';
import { issueWelcomeCredential } from './welcome-credentials.ts';
import type { User, WaitlistSubscriber } from '../models/index.ts';

/** Result of processing one subscriber. */
export type ProcessOutcome =
  | { result: 'created'; subscriberId: string; userId: string; username: string }
  | { result: 'linked'; subscriberId: string; userId: string }
  | { result: 'failed'; subscriberId: string; code: string; message: string; gaveUp: boolean; serverWide: boolean };

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
  let outcome: ProcessOutcome;

  try {
    const subscriber = await claimSubscriber(context, transaction, filter);
    if (!subscriber) {
      await transaction.rollback();
      return undefined;
    }
    attempt.subscriberId = subscriber.id;
    outcome = await processClaimed(context, subscriber, transaction, attempt);
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

async function processClaimed(context: AppContext, subscriber: WaitlistSubscriber, transaction: Transaction, attempt: Attempt): Promise<ProcessOutcome> {
  const existing = await findUserByEmail(context, subscriber.email, transaction);
  if (existing) {
    await markProcessed(context, subscriber, existing, transaction);
    return { result: 'linked', subscriberId: subscriber.id, userId: existing.id };
  }

  // Everything from here to the accepted email is undone together if any step fails.
  const savepoint = await context.database.sequelize.transaction({ transaction });
  try {
    const user = await createAccountAndSendWelcome(context, subscriber, savepoint, attempt);
    await savepoint.commit();
    return { result: 'created', subscriberId: subscriber.id, userId: user.id, username: user.username };
  } catch (error) {
    // When even the rollback fails (a lost connection), the whole transaction is gone: report the first error.
    const rolledBack = await savepoint.rollback().then(
      () => true,
      () => false,
    );
    if (!rolledBack) throw error;

    const failure = error instanceof ProcessingFailure ? error.failure : unexpectedFailure(error);
    return recordFailure(context, subscriber, failure, transaction);
  }
}

async function createAccountAndSendWelcome(context: AppContext, subscriber: WaitlistSubscriber, transaction: Transaction, attempt: Attempt): Promise<User> {
  const { models } = context;

  const user = await createUserForSubscriber(context, subscriber, { passwordHash: null, passwordExpiresAt: null }, transaction);
  const credential = await issueWelcomeCredential(context, user, transaction, { userCreatedInTransaction: true });

  const email = await renderWelcomeEmail(context, { subscriber, user, credential });
  let accepted;
  try {
    accepted = await timeWelcomeEmail(context.metrics, () => context.mailer.send(email));
  } catch (error) {
    throw new ProcessingFailure(classifySendError(error));
  }
  attempt.emailAccepted = true;

  await models.EmailDelivery.create(
    {
      recipient: subscriber.email,
      kind: 'welcome',
      subscriber_id: subscriber.id,
      user_id: user.id,
      status: 'accepted',
      message_id: accepted.messageId,
      smtp_response: accepted.response,
      error_code: null,
      error_message: null,
    },
    { transaction },
  );
  await markProcessed(context, subscriber, user, transaction);

  return user;
}

async function markProcessed(context: AppContext, subscriber: WaitlistSubscriber, user: User, transaction: Transaction) {
  await subscriber.update(
    {
      is_processed: true,
      processed_at: context.now(),
      user_id: user.id,
      last_error_code: null,
      last_error_message: null,
      next_attempt_at: null,
      gave_up_at: null,
    },
    { transaction },
  );
}

/** Writes the failure on the subscriber and in the deliveries, while the claim's row lock is still held. */
async function recordFailure(
  context: AppContext,
  subscriber: WaitlistSubscriber,
  failure: SendFailure,
  transaction: Transaction,
): Promise<ProcessOutcome> {
  const attempts = subscriber.attempts + 1;
  const decision = decideRetry(failure, attempts, context.config.processor, context.now());

  await subscriber.update(
    {
      attempts,
      last_error_code: failure.code,
      last_error_message: failure.message,
      next_attempt_at: decision.giveUp ? null : decision.nextAttemptAt,
      gave_up_at: decision.giveUp ? context.now() : null,
    },
    { transaction },
  );

  if (failure.code !== 'internal_error') {
    await context.models.EmailDelivery.create(
      {
        recipient: subscriber.email,
        kind: 'welcome',
        subscriber_id: subscriber.id,
        user_id: null,
        status: 'failed',
        message_id: null,
        smtp_response: failure.responseCode ? String(failure.responseCode) : null,
        error_code: failure.code,
        error_message: failure.message,
      },
      { transaction },
    );
  }

  return {
    result: 'failed',
    subscriberId: subscriber.id,
    code: failure.code,
    message: failure.message,
    gaveUp: decision.giveUp,
    serverWide: failure.serverWide,
  };
}

function unexpectedFailure(thrown: unknown): SendFailure {
  const error = toError(thrown);
  return { code: 'internal_error', message: error.message.slice(0, 1000), temporary: true, serverWide: false };
}

function logOutcome(context: AppContext, outcome: ProcessOutcome) {
  const { logger } = context;

  if (outcome.result === 'created') {
    logger.info({ subscriberId: outcome.subscriberId, userId: outcome.userId, outcome: 'created' }, 'account created and welcome email accepted');
  } else if (outcome.result === 'linked') {
    logger.info({ subscriberId: outcome.subscriberId, userId: outcome.userId, outcome: 'linked' }, 'existing account found and linked; no email sent');
  } else {
    const level = outcome.gaveUp ? 'error' : 'warn';
    logger[level](
      { subscriberId: outcome.subscriberId, code: outcome.code, gaveUp: outcome.gaveUp, outcome: 'failed' },
      outcome.gaveUp ? 'processing failed; gave up, an operator must retry' : 'processing failed; will retry later',
    );
  }
}
