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

/** A new temporary password for a welcome email, with the argon2id hash to store in its place. */
export interface TemporaryPassword {
  credential: Extract<WelcomeCredential, { kind: 'password' }>;
  hash: string;
}

/**
 * Gives `user` a fresh welcome credential of the kind WELCOME_CREDENTIAL sets, after voiding the previous ones:
 * - `password`: a temporary password (see `newTemporaryPassword`), stored with `must_change_password`; the user's
 *   sessions end, since the password they signed in with is gone;
 * - `link`: a set-password link (see `issueSetPasswordLink`).
 * Returns the plaintext for the email and nothing else keeps it. Call it inside the transaction that commits
 * only once the SMTP server accepted the email: if sending fails, the rollback keeps the previous credential.
 */
export async function issueWelcomeCredential(context: AppContext, user: User, transaction: Transaction): Promise<WelcomeCredential> {
  await invalidatePreviousCredentials(context, user, transaction);
  if (context.config.auth.welcomeCredential === 'link') return issueSetPasswordLink(context, user.id, transaction);

  const { credential, hash } = await newTemporaryPassword(context);
  await context.models.User.update(
    { password_hash: hash, must_change_password: true, password_expires_at: credential.expiresAt },
    { where: { id: user.id }, transaction },
  );
  await endSessionsOfUser(context, user.id, { transaction });

  return credential;
}

/** Generates a temporary password that expires after TEMP_PASSWORD_TTL_HOURS, and hashes it with argon2id. */
export async function newTemporaryPassword(context: AppContext): Promise<TemporaryPassword> {
  const { passwords } = context.config;
  const password = generateTemporaryPassword(passwords.length);
  const expiresAt = new Date(context.now().getTime() + passwords.ttlHours * 3600 * 1000);

  return { credential: { kind: 'password', password, expiresAt }, hash: await hashPassword(password, passwords.argon2) };
}

/** Creates a set-password link valid for WELCOME_LINK_TTL_HOURS; the token is stored as its SHA-256 hash. */
export async function issueSetPasswordLink(context: AppContext, userId: string, transaction: Transaction): Promise<WelcomeCredential> {
  const { config } = context;
  const expiresAt = new Date(context.now().getTime() + config.auth.welcomeLinkTtlHours * 3600 * 1000);
  const token = await createPasswordToken(context, userId, 'set_password', expiresAt, transaction);

  return { kind: 'link', url: `${config.email.frontendUrl}/auth/set-password?token=${token}`, expiresAt };
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
