import { Op, UniqueConstraintError, fn, col, where, type Transaction } from 'sequelize';
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
 * Each insert runs in a savepoint, so a name taken by a concurrent processor costs one retry, not the transaction.
 */
export async function createUserForSubscriber(
  context: AppContext,
  subscriber: WaitlistSubscriber,
  account: NewAccount,
  transaction: Transaction,
): Promise<User> {
  const base = usernameBase(subscriber.email);
  let attempt = await nextFreeSuffix(context, base, transaction);

  for (let tries = 0; tries < MAX_USERNAME_TRIES; tries++) {
    try {
      return await context.database.sequelize.transaction({ transaction }, (savepoint) =>
        context.models.User.create(
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
        ),
      );
    } catch (error) {
      const usernameTaken = error instanceof UniqueConstraintError && error.fields && 'username' in error.fields;
      if (!usernameTaken) throw error;
      attempt = Math.max(attempt + 1, await nextFreeSuffix(context, base, transaction));
    }
  }

  throw new Error(`No free username found for base "${base}" after ${MAX_USERNAME_TRIES} tries`);
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
