import { Op, QueryTypes, fn, col, where, type Transaction } from 'sequelize';
import type { AppContext } from './context.ts';
import { usernameBase, usernameCandidate } from './usernames.ts';
import type { User, WaitlistSubscriber } from '../models/index.ts';

const MAX_USERNAME_TRIES = 20;

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
 * The insert skips a taken name with `ON CONFLICT (username) DO NOTHING` rather than failing, so the transaction
 * needs no savepoint for it, and the names in use are read only after a collision. An insert that a concurrent
 * processor's uncommitted user blocks waits for that transaction, then moves on to the next number if it committed.
 */
export async function createUserForSubscriber(
  context: AppContext,
  subscriber: WaitlistSubscriber,
  account: NewAccount,
  transaction: Transaction,
): Promise<User> {
  const base = usernameBase(subscriber.email);
  const user = context.models.User.build({
    username: base,
    email: subscriber.email,
    password_hash: account.passwordHash,
    first_name: subscriber.first_name ?? '',
    last_name: subscriber.last_name ?? null,
    phone_number: subscriber.phone_number,
    must_change_password: true,
    password_expires_at: account.passwordExpiresAt,
    last_login: null,
  });
  await user.validate();

  let attempt = 1;
  for (let tries = 0; tries < MAX_USERNAME_TRIES; tries++) {
    user.username = usernameCandidate(base, attempt);
    if (await insertUnlessUsernameTaken(context, user, transaction)) return user;
    attempt = Math.max(attempt + 1, await nextFreeSuffix(context, base, transaction));
  }

  throw new Error(`No free username found for base "${base}" after ${MAX_USERNAME_TRIES} tries`);
}

/** Inserts the built user and returns true, or returns false when its username is taken. */
async function insertUnlessUsernameTaken(context: AppContext, user: User, transaction: Transaction): Promise<boolean> {
  const rows = await context.database.sequelize.query<{ id: string; date_joined: Date; updated_at: Date }>(
    `INSERT INTO users (username, email, password_hash, first_name, last_name, phone_number, must_change_password, password_expires_at, last_login)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (username) DO NOTHING
     RETURNING id, date_joined, updated_at`,
    {
      bind: [user.username, user.email, user.password_hash, user.first_name, user.last_name, user.phone_number, user.must_change_password, user.password_expires_at, user.last_login],
      type: QueryTypes.SELECT,
      transaction,
    },
  );
  if (rows.length === 0) return false;

  user.set(rows[0], { raw: true });
  user.isNewRecord = false;
  return true;
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
