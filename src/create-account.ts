import { fn, col, where, type Transaction } from 'sequelize';
import type { ClaimedSubscriber } from './claim-subscriber.ts';
import type { AppContext } from './context.ts';
import { sqlState, type TransactionSql } from './database/direct-sql.ts';
import { usernameBase, usernameCandidate } from './usernames.ts';
import type { User } from '../models/index.ts';

// A try costs at most USERNAME_LOCK_TIMEOUT, and one try is lost per concurrent transaction creating the same base.
const MAX_USERNAME_TRIES = 100;

/**
 * How long an insert waits for another transaction that is creating the same username. That transaction holds
 * the name until its welcome email is accepted, so waiting it out would line every processor of one base up
 * behind the SMTP server; after this wait the insert tries the next number instead.
 */
const USERNAME_LOCK_TIMEOUT = '50ms';

// PostgreSQL's SQLSTATEs for unique_violation and lock_not_available (raised when lock_timeout expires).
const UNIQUE_VIOLATION = '23505';
const LOCK_NOT_AVAILABLE = '55P03';

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

const INSERT_USER = `
  INSERT INTO users (username, email, password_hash, first_name, last_name, phone_number,
                     must_change_password, password_expires_at, date_joined, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8, $8)
  RETURNING id`;

/**
 * Sets the savepoint that `createUserForSubscriber` returns to after a taken username, and that the caller may
 * return to when a later step fails. Its lock timeout lasts until the transaction ends or returns to it, and
 * nothing after the insert waits on a lock: the rows written later are the claimed subscriber's and the new user's.
 */
export async function startAccountSavepoint(sql: TransactionSql, savepoint: string): Promise<void> {
  await sql.script(`SAVEPOINT ${savepoint}; SET LOCAL lock_timeout = '${USERNAME_LOCK_TIMEOUT}'`);
}

/**
 * Creates the subscriber's user with a unique username: the email's local part, then the same with 2, 3, …
 * Call it right after `startAccountSavepoint(sql, savepoint)`: a name taken by a concurrent processor costs a
 * return to that savepoint and one retry, not the transaction. A name that another open transaction is inserting
 * counts as taken after USERNAME_LOCK_TIMEOUT, so concurrent processors walk past each other's numbers instead of
 * queueing for the same one. The bare local part is tried first; the numbers in use are read only after it fails.
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
        values: [username, subscriber.email, account.passwordHash, subscriber.first_name ?? '', subscriber.last_name, subscriber.phone_number, account.passwordExpiresAt, new Date()],
      });
      return { id: user.id, username };
    } catch (error) {
      if (!isUsernameConflict(error)) throw error;
      await startAgainAt(sql, savepoint);
      attempt = Math.max(attempt + 1, await nextFreeSuffix(sql, base));
    }
  }

  throw new Error(`No free username found for base "${base}" after ${MAX_USERNAME_TRIES} tries`);
}

async function startAgainAt(sql: TransactionSql, savepoint: string) {
  await sql.script(`ROLLBACK TO SAVEPOINT ${savepoint}; SET LOCAL lock_timeout = '${USERNAME_LOCK_TIMEOUT}'`);
}

/**
 * True when the insert failed because the username is taken, or because another open transaction is inserting
 * a conflicting row. NOTE: that conflicting row could also hold the same address, created elsewhere at that
 * moment. Every number then times out, and the error above reports it after the last try.
 */
function isUsernameConflict(error: unknown): boolean {
  const state = sqlState(error);
  if (state === UNIQUE_VIOLATION) return (error as { constraint?: string }).constraint === USERNAME_CONSTRAINT;
  return state === LOCK_NOT_AVAILABLE;
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
