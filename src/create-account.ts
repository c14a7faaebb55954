import { DatabaseError, Op, UniqueConstraintError, fn, col, where, type Transaction } from 'sequelize';
import type { AppContext } from './context.ts';
import { usernameBase, usernameCandidate } from './usernames.ts';
import type { User, WaitlistSubscriber } from '../models/index.ts';

// A try costs at most USERNAME_LOCK_TIMEOUT, and one try is lost per concurrent transaction creating the same base.
const MAX_USERNAME_TRIES = 100;

/**
 * How long an insert waits for another transaction that is creating the same username. That transaction holds
 * the name until its welcome email is accepted, so waiting it out would line every processor of one base up
 * behind the SMTP server; after this wait the insert tries the next number instead.
 */
const USERNAME_LOCK_TIMEOUT = '50ms';

// PostgreSQL's lock_not_available, raised when lock_timeout expires.
const LOCK_NOT_AVAILABLE = '55P03';

/** Returns the user whose email matches the subscriber's, without regard to case. */
export async function findUserByEmail(context: AppContext, email: string, transaction: Transaction): Promise<User | undefined> {
  const user = await context.models.User.findOne({
    where: where(fn('lower', col('email')), email.toLowerCase()),
    transaction,
  });
  return user ?? undefined;
}

export interface NewAccount {
  passwordHash: string | null;
  passwordExpiresAt: Date | null;
}

/**
 * Creates the subscriber's user with a unique username: the email's local part, then the same with 2, 3, …
 * Each insert runs in a savepoint, so a name taken by a concurrent processor costs one retry, not the transaction.
 * A name that another open transaction is inserting counts as taken after USERNAME_LOCK_TIMEOUT, so concurrent
 * processors walk past each other's numbers instead of queueing for the same one.
 */
export async function createUserForSubscriber(
  context: AppContext,
  subscriber: WaitlistSubscriber,
  account: NewAccount,
  transaction: Transaction,
): Promise<User> {
  const { sequelize } = context.database;
  const base = usernameBase(subscriber.email);
  let attempt = await nextFreeSuffix(context, base, transaction);

  for (let tries = 0; tries < MAX_USERNAME_TRIES; tries++) {
    try {
      return await sequelize.transaction({ transaction }, async (savepoint) => {
        // SET LOCAL inside the savepoint ends with it when the insert fails, and is reset below when it succeeds.
        await sequelize.query(`SET LOCAL lock_timeout = '${USERNAME_LOCK_TIMEOUT}'`, { transaction: savepoint });
        const user = await context.models.User.create(
          {
            username: usernameCandidate(base, attempt),
            email: subscriber.email,
            password_hash: account.passwordHash,
            first_name: subscriber.first_name ?? '',
            last_name: subscriber.last_name ?? null,
            phone_number: subscriber.phone_number,
            must_change_password: true,
            password_expires_at: account.passwordExpiresAt,
            last_login: null,
          },
          { transaction: savepoint },
        );
        await sequelize.query('SET LOCAL lock_timeout = DEFAULT', { transaction: savepoint });
        return user;
      });
    } catch (error) {
      if (!isUsernameConflict(error)) throw error;
      attempt = Math.max(attempt + 1, await nextFreeSuffix(context, base, transaction));
    }
  }

  throw new Error(`No free username found for base "${base}" after ${MAX_USERNAME_TRIES} tries`);
}

/**
 * True when the insert failed because the username is taken, or because another open transaction is inserting
 * a conflicting row. NOTE: that conflicting row could also hold the same address, created elsewhere at that
 * moment. Every number then times out, and the error above reports it after the last try.
 */
function isUsernameConflict(error: unknown): boolean {
  if (error instanceof UniqueConstraintError) return Boolean(error.fields && 'username' in error.fields);
  return error instanceof DatabaseError && (error.parent as { code?: string }).code === LOCK_NOT_AVAILABLE;
}

/** Returns the first suffix worth trying: 1 (the bare base) when it is free, else one past the highest in use. */
async function nextFreeSuffix(context: AppContext, base: string, transaction: Transaction): Promise<number> {
  const taken = await context.models.User.findAll({
    attributes: ['username'],
    where: { username: { [Op.startsWith]: base } },
    transaction,
    raw: true,
  });

  let highest = 0;
  for (const { username } of taken) {
    if (username === base) highest = Math.max(highest, 1);
    const suffix = username.slice(base.length);
    if (/^[0-9]{1,9}$/.test(suffix)) highest = Math.max(highest, Number(suffix));
  }
  return highest + 1;
}
