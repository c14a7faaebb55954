import type { TransactionSql } from './database/direct-sql.ts';

/**
 * The writes that end a subscriber's processing, each one statement on the claim's transaction. Every one
 * runs while the claim's row lock is held, so no other processor reads the subscriber half done.
 */

const MARK_PROCESSED = `
  UPDATE waitlist_subscribers
     SET is_processed = true, processed_at = $3, user_id = $2, updated_at = $4,
         last_error_code = NULL, last_error_message = NULL, next_attempt_at = NULL, gave_up_at = NULL
   WHERE id = $1`;

const RECORD_WELCOME_ACCEPTED = `
  WITH delivery AS (
    INSERT INTO email_deliveries (recipient, kind, subscriber_id, user_id, status, message_id, smtp_response, created_at)
    VALUES ($5, 'welcome', $1, $2, 'accepted', $6, $7, $4)
  )
  ${MARK_PROCESSED}`;

// A failure of the service's own ($10 false) is no delivery, so only the subscriber's row records it.
const RECORD_ATTEMPT_FAILED = `
  WITH delivery AS (
    INSERT INTO email_deliveries (recipient, kind, subscriber_id, status, smtp_response, error_code, error_message, created_at)
    SELECT $7::varchar, 'welcome', $1::bigint, 'failed', $8::text, $3::varchar, $4::text, $9::timestamptz
     WHERE $10::boolean
  )
  UPDATE waitlist_subscribers
     SET attempts = $2, last_error_code = $3, last_error_message = $4, next_attempt_at = $5, gave_up_at = $6, updated_at = $9
   WHERE id = $1`;

/** Marks the subscriber processed and linked to an account that already had its email. */
export async function markLinked(sql: TransactionSql, subscriberId: string, userId: string, processedAt: Date): Promise<void> {
  await sql.rows({ name: 'mark_subscriber_linked', text: MARK_PROCESSED, values: [subscriberId, userId, processedAt, new Date()] });
}

export interface AcceptedWelcome {
  subscriberId: string;
  userId: string;
  recipient: string;
  messageId: string;
  smtpResponse: string;
}

/** Records the accepted welcome email and marks the subscriber processed, in one statement. */
export async function recordWelcomeAccepted(sql: TransactionSql, welcome: AcceptedWelcome, processedAt: Date): Promise<void> {
  await sql.rows({
    name: 'record_welcome_accepted',
    text: RECORD_WELCOME_ACCEPTED,
    values: [welcome.subscriberId, welcome.userId, processedAt, new Date(), welcome.recipient, welcome.messageId, welcome.smtpResponse],
  });
}

export interface FailedAttempt {
  subscriberId: string;
  recipient: string;
  /** The subscriber's attempts, this one included. */
  attempts: number;
  code: string;
  message: string;
  smtpResponse: string | null;
  /** Time of the next try, or null once processing gave up. */
  nextAttemptAt: Date | null;
  gaveUpAt: Date | null;
  /** False for the service's own errors, which reached no SMTP server and so are not deliveries. */
  isDelivery: boolean;
}

/** Writes the failed attempt on the subscriber and, when it was a delivery, in the deliveries. */
export async function recordAttemptFailed(sql: TransactionSql, failed: FailedAttempt): Promise<void> {
  await sql.rows({
    name: 'record_attempt_failed',
    text: RECORD_ATTEMPT_FAILED,
    values: [
      failed.subscriberId,
      failed.attempts,
      failed.code,
      failed.message,
      failed.nextAttemptAt,
      failed.gaveUpAt,
      failed.recipient,
      failed.smtpResponse,
      new Date(),
      failed.isDelivery,
    ],
  });
}
