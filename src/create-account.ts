import { fn, col, where, type Transaction } from 'sequelize';
import type { ClaimedSubscriber } from './claim-subscriber.ts';
import type { AppContext } from './context.ts';
import { sqlState, type TransactionSql } from './database/direct-sql.ts';
import { usernameBase, usernameCandidate } from './usernames.ts';
import type { User } from '../models/index.ts';

// One try is lost per concurrent transaction creating a name of the same base. A name in creation costs one round
// trip, and a committed one three: the return to the savepoint, the read of the numbers in use and the insert.
const MAX_USERNAME_TRIES = 100;

/**
 * First key of the transaction-level advisory lock a processor takes on a username before inserting it, with the
 * name's hash as the second key. A name locked by another transaction is being created there and counts as taken,
 * so concurrent processors walk past each other's numbers at once instead of waiting for that transaction's
 * welcome email. PostgreSQL keeps two-key locks apart from the one-key locks taken elsewhere (re-sends, staff set-up, migrations).
 */
const USERNAME_LOCK_CLASS = 0x7573_6e6d; // "usnm"

// PostgreSQL's SQLSTATE for unique_violation.
const UNIQUE_VIOLATION = '23505';

const USERNAME_CONSTRAINT = 'users_username_key';

/** Returns the user whose email matches, without regard to case. */
export async function findUserByEmail(context: AppContext, email: string, transaction: Transaction): Promise<User | undefined> {
  const user = await context.models.User.findOne({
    where: where(fn('lower', col('email')), email.toLowerCase()),
    transaction,
  });
  return user ?? undefined;
}

/** The new user's credential columns: a temporary password's hash and expiry, or nulls in link mode. */
export interface NewAccount {
  passwordHash: string | null;
  passwordExpiresAt: Date | null;
}

/** The user that `createUserForSubscriber` inserted. */
export interface CreatedUser {
  id: string;
  username: string;
}

// Inserts nothing, and returns no row, when another transaction has the name's lock. The casts give each parameter
// one type: without them PostgreSQL deduces varchar for $1 from its column and text from hashtext(), and rejects it.
const INSERT_USER = `
  INSERT INTO users (username, email, password_hash, first_name, last_name, phone_number,
                     must_change_password, password_expires_at, date_joined, updated_at)
  SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::varchar, $6::varchar, true, $7::timestamptz, $8::timestamptz, $8::timestamptz
  WHERE pg_try_advisory_xact_lock($9::integer, hashtext($1::varchar))
  RETURNING id`;

/** Sets the savepoint that `createUserForSubscriber` returns to after a taken username, and that the caller may return to when a later step fails. */
export async function startAccountSavepoint(sql: TransactionSql, savepoint: string): Promise<void> {
  await sql.script(`SAVEPOINT ${savepoint}`);
}

/**
 * Creates the subscriber's user with a unique username: the email's local part, then the same with 2, 3, …
 * Call it right after `startAccountSavepoint(sql, savepoint)`: a name taken by a concurrent processor costs a
 * return to that savepoint and one retry, not the transaction. A name that another open transaction is creating
 * is skipped at once (USERNAME_LOCK_CLASS). The bare local part is tried first, and the numbers in use are read
 * only after a name turns out taken.
 */
export async function createUserForSubscriber(
  context: AppContext,
  sql: TransactionSql,
  savepoint: string,
  subscriber: ClaimedSubscriber,
  account: NewAccount,
): Promise<CreatedUser> {
  const base = usernameBase(subscriber.email);
  let attempt = 1;

  for (let tries = 0; tries < MAX_USERNAME_TRIES; tries++) {
    const username = usernameCandidate(base, attempt);
    try {
      const [user] = await sql.rows<{ id: string }>({
        name: 'insert_processed_user',
        text: INSERT_USER,
        values: [username, subscriber.email, account.passwordHash, subscriber.first_name ?? '', subscriber.last_name, subscriber.phone_number, account.passwordExpiresAt, new Date(), USERNAME_LOCK_CLASS],
      });
      if (user) return { id: user.id, username };

      // Another transaction is creating this name: try the next number.
      attempt++;
    } catch (error) {
      if (!isUsernameTaken(error)) throw error;
      await sql.script(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      attempt = Math.max(attempt + 1, await nextFreeSuffix(sql, base));
    }
  }

  throw new Error(`No free username found for base "${base}" after ${MAX_USERNAME_TRIES} tries`);
}

/**
 * True when the insert failed because a committed user has the username. An open transaction creating a user
 * with the same address makes the insert wait for it, and fail on the address if it commits: not this case.
 */
function isUsernameTaken(error: unknown): boolean {
  return sqlState(error) === UNIQUE_VIOLATION && (error as { constraint?: string }).constraint === USERNAME_CONSTRAINT;
}

/** Returns the first suffix worth trying: 1 (the bare base) when it is free, else one past the highest in use. */
async function nextFreeSuffix(sql: TransactionSql, base: string): Promise<number> {
  // Unnamed, so that PostgreSQL plans it with the actual prefix and uses the text_pattern_ops index.
  const taken = await sql.rows<{ username: string }>({
    text: `SELECT username FROM users WHERE username LIKE $1 ESCAPE '\\'`,
    values: [`${base.replace(/[\\%_]/g, '\\$&')}%`],
  });

  let highest = 0;
  for (const { username } of taken) {
    if (username === base) highest = Math.max(highest, 1);
    const suffix = username.slice(base.length);
    if (/^[0-9]{1,9}$/.test(suffix)) highest = Math.max(highest, Number(suffix));
  }
  return highest + 1;
}
