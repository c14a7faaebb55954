import type { AppContext } from './context.ts';
import type { TransactionSql } from './database/direct-sql.ts';

/** Limits on the subscribers a claim may take. */
export interface ClaimFilter {
  /** Only these ids, whether due or not (an operator's "process now"); otherwise the oldest due subscriber. */
  ids?: string[];
  /** Ids this run has already tried, so that a failing subscriber is never retried within one run. */
  excludeIds?: Iterable<string>;
}

/** The columns of a claimed subscriber that processing reads, with the account its email already has. */
export interface ClaimedSubscriber {
  id: string;
  email: string;
  name: string | null;
  first_name: string;
  last_name: string | null;
  phone_number: string | null;
  source: string;
  attempts: number;
  /** The user whose email matches without regard to case, or null when the address has no account yet. */
  existing_user_id: string | null;
}

const CLAIMED_COLUMNS = `
  s.id, s.email, s.name, s.first_name, s.last_name, s.phone_number, s.source, s.attempts,
  (SELECT u.id FROM users u WHERE lower(u.email) = lower(s.email)) AS existing_user_id`;

// The partial index waitlist_subscribers_due_idx serves this order.
const CLAIM_DUE = `
  SELECT ${CLAIMED_COLUMNS}
    FROM waitlist_subscribers s
   WHERE s.is_processed = false AND s.gave_up_at IS NULL
     AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= $1)
     AND s.id <> ALL ($2::bigint[])
   ORDER BY s.created_at, s.id
   LIMIT 1
     FOR UPDATE OF s SKIP LOCKED`;

const CLAIM_CHOSEN = `
  SELECT ${CLAIMED_COLUMNS}
    FROM waitlist_subscribers s
   WHERE s.id = ANY ($1::bigint[]) AND s.is_processed = false
     AND s.id <> ALL ($2::bigint[])
   ORDER BY s.created_at, s.id
   LIMIT 1
     FOR UPDATE OF s SKIP LOCKED`;

/**
 * Locks and returns the oldest unprocessed subscriber that is due, or undefined when there is none.
 * Rows that another processor has locked are skipped (`FOR UPDATE SKIP LOCKED`), so concurrent processors,
 * in one process or many, never handle the same subscriber at the same time. The lock lasts until the
 * transaction ends, which is also what releases it when a worker dies.
 */
export async function claimSubscriber(context: AppContext, sql: TransactionSql, filter: ClaimFilter = {}): Promise<ClaimedSubscriber | undefined> {
  const excluded = [...(filter.excludeIds ?? [])];

  const [subscriber] = filter.ids
    ? await sql.rows<ClaimedSubscriber>({ name: 'claim_chosen_subscriber', text: CLAIM_CHOSEN, values: [filter.ids, excluded] })
    : await sql.rows<ClaimedSubscriber>({ name: 'claim_due_subscriber', text: CLAIM_DUE, values: [context.now(), excluded] });

  return subscriber;
}
