import { Op, Transaction, type WhereOptions } from 'sequelize';
import type { AppContext } from './context.ts';
import type { WaitlistSubscriber } from '../models/index.ts';

/** Limits on the subscribers a claim may take. */
export interface ClaimFilter {
  /** Only these ids, whether due or not (an operator's "process now"); otherwise the oldest due subscriber. */
  ids?: string[];
  /** Ids this run has already tried, so that a failing subscriber is never retried within one run. */
  excludeIds?: Iterable<string>;
}

/**
 * Locks and returns the oldest unprocessed subscriber that is due, or undefined when there is none.
 * Rows that another processor has locked are skipped (`FOR UPDATE SKIP LOCKED`), so concurrent processors,
 * in one process or many, never handle the same subscriber at the same time. The lock lasts until
 * `transaction` ends, which is also what releases it when a worker dies.
 */
export async function claimSubscriber(
  context: AppContext,
  transaction: Transaction,
  filter: ClaimFilter = {},
): Promise<WaitlistSubscriber | undefined> {
  const { WaitlistSubscriber } = context.models;
  const excluded = [...(filter.excludeIds ?? [])];

  const where: WhereOptions = filter.ids
    ? { id: { [Op.in]: filter.ids }, is_processed: false }
    : {
        is_processed: false,
        gave_up_at: null,
        [Op.or]: [{ next_attempt_at: null }, { next_attempt_at: { [Op.lte]: context.now() } }],
      };
  if (excluded.length > 0) Object.assign(where, { id: { ...(filter.ids ? { [Op.in]: filter.ids } : {}), [Op.notIn]: excluded } });

  const subscriber = await WaitlistSubscriber.findOne({
    where,
    order: [
      ['created_at', 'ASC'],
      ['id', 'ASC'],
    ],
    lock: Transaction.LOCK.UPDATE,
    skipLocked: true,
    transaction,
  });

  return subscriber ?? undefined;
}
