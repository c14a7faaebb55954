import type { Transaction } from 'sequelize';
import { endSessionsOfUser } from './auth/account-sessions.ts';
import { createPasswordToken, revokeOutstandingTokens } from './auth/password-tokens.ts';
import type { AppContext } from './context.ts';
import { generateTemporaryPassword, hashPassword } from './passwords.ts';
import type { User } from '../models/index.ts';

/** Credential that a welcome email shows: a temporary password, or a one-time link to set a password (WELCOME_CREDENTIAL). */
export type WelcomeCredential =
  | { kind: 'password'; password: string; expiresAt: Date }
  | { kind: 'link'; url: string; expiresAt: Date };

export interface IssueOptions {
  /**
   * Set when `user` was inserted in `transaction`: no other transaction can see it yet, so it has no link or
   * session to void, and the three statements that void them (one a scan of http_sessions) are skipped.
   */
  userCreatedInTransaction?: boolean;
}

/**
 * Gives `user` a fresh welcome credential of the kind WELCOME_CREDENTIAL sets, after voiding the previous ones:
 * - `password`: a temporary password, stored as its argon2id hash with `must_change_password` and an expiry
 *   of TEMP_PASSWORD_TTL_HOURS; the user's sessions end, since the password they signed in with is gone;
 * - `link`: a set-password token valid for WELCOME_LINK_TTL_HOURS, stored as its SHA-256 hash.
 * Returns the plaintext for the email and nothing else keeps it. Call it inside the transaction that commits
 * only once the SMTP server accepted the email: if sending fails, the rollback keeps the previous credential.
 */
export async function issueWelcomeCredential(
  context: AppContext,
  user: User,
  transaction: Transaction,
  options: IssueOptions = {},
): Promise<WelcomeCredential> {
  const { config } = context;
  if (!options.userCreatedInTransaction) await invalidatePreviousCredentials(context, user, transaction);

  if (config.auth.welcomeCredential === 'link') {
    const expiresAt = new Date(context.now().getTime() + config.auth.welcomeLinkTtlHours * 3600 * 1000);
    const token = await createPasswordToken(context, user.id, 'set_password', expiresAt, transaction);
    return { kind: 'link', url: `${config.email.frontendUrl}/auth/set-password?token=${token}`, expiresAt };
  }

  const password = generateTemporaryPassword(config.passwords.length);
  const expiresAt = new Date(context.now().getTime() + config.passwords.ttlHours * 3600 * 1000);
  await context.models.User.update(
    { password_hash: await hashPassword(password, config.passwords.argon2), must_change_password: true, password_expires_at: expiresAt },
    { where: { id: user.id }, transaction },
  );
  if (!options.userCreatedInTransaction) await endSessionsOfUser(context, user.id, { transaction });

  return { kind: 'password', password, expiresAt };
}

/**
 * Voids what earlier welcome or reset emails gave the user: every unused link, and the temporary password if
 * the user still has one (`must_change_password`), along with the sessions signed in with it. A password the
 * person chose stays. Re-sending a welcome email calls this through `issueWelcomeCredential`.
 */
export async function invalidatePreviousCredentials(context: AppContext, user: User, transaction: Transaction): Promise<void> {
  await revokeOutstandingTokens(context, user.id, transaction);

  const [cleared] = await context.models.User.update(
    { password_hash: null, password_expires_at: null },
    { where: { id: user.id, must_change_password: true }, transaction },
  );
  if (cleared > 0) await endSessionsOfUser(context, user.id, { transaction });
}
