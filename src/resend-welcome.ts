import { QueryTypes, type Transaction } from 'sequelize';
import type { AppContext } from './context.ts';
import { classifySendError } from './mail/send-errors.ts';
import { renderWelcomeEmail } from './mail/welcome-email.ts';
import { timeWelcomeEmail } from './metrics.ts';
import { issueWelcomeCredential, type WelcomeCredential } from './welcome-credentials.ts';
import type { User, WaitlistSubscriber } from '../models/index.ts';

/** Result of a re-send. Only `sent` replaced the credential, and `failed` leaves the previous one working. */
export type ResendOutcome =
  | { result: 'sent'; userId: string; recipient: string; credential: WelcomeCredential['kind']; expiresAt: Date }
  | { result: 'failed'; userId: string; recipient: string; code: string; message: string };

/** Error for a re-send that could not start: `code` is stable for callers, and `message` tells the operator what to do. */
export class ResendError extends Error {
  constructor(
    readonly code: 'user_not_found' | 'user_inactive' | 'no_subscriber' | 'resend_in_progress',
    message: string,
  ) {
    super(message);
    this.name = 'ResendError';
  }
}

/**
 * Sends a user who came from the waitlist a new welcome email with a fresh credential (a temporary password, or a
 * set-password link, as WELCOME_CREDENTIAL sets) from `issueWelcomeCredential`, which voids the previous one.
 * The new credential is committed only after the SMTP server accepted the email, so a failed send leaves the
 * previous one working. Each attempt is recorded in email_deliveries with the kind `resend`.
 * Two re-sends for one user never overlap: the second fails with `resend_in_progress`.
 * If the commit fails after the server accepted the email, the emailed credential does not work and the previous one does.
 */
export async function resendWelcomeEmail(context: AppContext, userId: string): Promise<ResendOutcome> {
  const transaction = await context.database.sequelize.transaction();
  try {
    const outcome = await resendLocked(context, userId, transaction);
    await transaction.commit();
    logOutcome(context, outcome);
    return outcome;
  } catch (error) {
    await transaction.rollback().catch(() => undefined);
    throw error;
  }
}

async function resendLocked(context: AppContext, userId: string, transaction: Transaction): Promise<ResendOutcome> {
  await lockUser(context, userId, transaction);
  const { user, subscriber } = await loadRecipient(context, userId, transaction);
  const recipient = subscriber.email;

  // The credential change is undone on a failed send, while the failed delivery row is kept.
  const savepoint = await context.database.sequelize.transaction({ transaction });
  const credential = await issueWelcomeCredential(context, user, savepoint);
  const email = await renderWelcomeEmail(context, { subscriber, user, credential });

  let accepted;
  try {
    accepted = await timeWelcomeEmail(context.metrics, () => context.mailer.send(email));
  } catch (error) {
    await savepoint.rollback();
    const failure = classifySendError(error);
    await recordDelivery(context, { subscriber, user, status: 'failed', errorCode: failure.code, errorMessage: failure.message, smtpResponse: failure.responseCode ? String(failure.responseCode) : null }, transaction);
    return { result: 'failed', userId, recipient, code: failure.code, message: failure.message };
  }

  await savepoint.commit();
  await recordDelivery(context, { subscriber, user, status: 'accepted', messageId: accepted.messageId, smtpResponse: accepted.response }, transaction);
  return { result: 'sent', userId, recipient, credential: credential.kind, expiresAt: credential.expiresAt };
}

/** Holds a per-user advisory lock until the transaction ends, or fails at once when another re-send holds it. */
async function lockUser(context: AppContext, userId: string, transaction: Transaction) {
  const [row] = await context.database.sequelize.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_xact_lock(hashtextextended('resend-welcome:' || :userId, 0)) AS locked",
    { replacements: { userId }, type: QueryTypes.SELECT, transaction },
  );
  if (!row.locked) {
    throw new ResendError('resend_in_progress', 'A welcome email for this user is being sent right now: wait for it to finish, then check the deliveries.');
  }
}

async function loadRecipient(context: AppContext, userId: string, transaction: Transaction): Promise<{ user: User; subscriber: WaitlistSubscriber }> {
  const user = await context.models.User.findByPk(userId, { transaction });
  if (!user) throw new ResendError('user_not_found', `User ${userId} was not found: it may have been deleted.`);
  if (!user.is_active) throw new ResendError('user_inactive', `User ${user.username} is inactive: activate the account before sending it new credentials.`);

  const subscriber = await context.models.WaitlistSubscriber.findOne({
    where: { user_id: userId },
    order: [['processed_at', 'DESC NULLS LAST']],
    transaction,
  });
  if (!subscriber) {
    throw new ResendError('no_subscriber', `User ${user.username} did not come from the waitlist, so there is no welcome email to send: use "waitlist create-admin" for staff accounts.`);
  }
  return { user, subscriber };
}

interface DeliveryRecord {
  subscriber: WaitlistSubscriber;
  user: User;
  status: 'accepted' | 'failed';
  messageId?: string;
  smtpResponse: string | null;
  errorCode?: string;
  errorMessage?: string;
}

async function recordDelivery(context: AppContext, delivery: DeliveryRecord, transaction: Transaction) {
  await context.models.EmailDelivery.create(
    {
      recipient: delivery.subscriber.email,
      kind: 'resend',
      subscriber_id: delivery.subscriber.id,
      user_id: delivery.user.id,
      status: delivery.status,
      message_id: delivery.messageId ?? null,
      smtp_response: delivery.smtpResponse,
      error_code: delivery.errorCode ?? null,
      error_message: delivery.errorMessage ?? null,
    },
    { transaction },
  );
}

function logOutcome(context: AppContext, outcome: ResendOutcome) {
  if (outcome.result === 'sent') {
    context.logger.info({ userId: outcome.userId, credential: outcome.credential, outcome: 'resent' }, 'welcome email re-sent with a new credential');
  } else {
    context.logger.warn({ userId: outcome.userId, code: outcome.code, outcome: 'failed' }, 'welcome email re-send failed; the previous credential still works');
  }
}
