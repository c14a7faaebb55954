import type { Transaction } from 'sequelize';
import { hashPassword } from '../passwords.ts';
import { endSessionsOfUser } from './account-sessions.ts';
import { AuthError, assertNoFieldErrors } from './auth-error.ts';
import type { AuthService } from './auth-service.ts';
import { checkNewPassword, normalizePassword } from './password-policy.ts';
import { consumeToken, findUsableToken, revokeOutstandingTokens } from './password-tokens.ts';
import { tooManyAttempts } from './sign-in.ts';
import type { User } from '../../models/index.ts';
import type { PasswordTokenPurpose } from '../../models/password-token.ts';

export interface ChangePasswordRequest {
  userId: string;
  currentPassword: unknown;
  newPassword: unknown;
  /** The session making the change; it stays signed in and every other session of the user ends. */
  sessionId: string;
  address: string;
}

/**
 * Replaces a signed-in user's password after checking the current one (the temporary password, when a change
 * is required). Wrong current passwords count against the sign-in throttle like failed sign-ins.
 */
export async function changePassword(auth: AuthService, request: ChangePasswordRequest): Promise<User> {
  const { context } = auth;
  const current = typeof request.currentPassword === 'string' ? request.currentPassword : '';

  const accountKey = { scope: 'account' as const, value: String(request.userId) };
  const addressKey = { scope: 'address' as const, value: request.address };
  const verdict = await auth.throttle.recordAttempt([accountKey, addressKey]);
  if (verdict.limited) throw tooManyAttempts(verdict.retryAfterSeconds);

  const user = await context.models.User.scope('withPassword').findByPk(request.userId);
  if (!user || !user.is_active) throw new AuthError('not_signed_in', 'Your session has ended. Sign in again.');

  const fields: Record<string, string> = {};
  if (current === '') {
    fields.current_password = user.must_change_password ? 'Enter the temporary password from your welcome email.' : 'Enter your current password.';
  } else if (!(await auth.verifyPassword(user.password_hash, current))) {
    fields.current_password = user.must_change_password
      ? 'This is not the temporary password from your welcome email.'
      : 'This is not your current password.';
  }
  const problem = checkNewPassword(request.newPassword, current || undefined);
  if (problem) fields.new_password = problem;
  assertNoFieldErrors(fields);

  await auth.throttle.recordSuccess(accountKey, addressKey);
  const passwordHash = await hashPassword(normalizePassword(request.newPassword as string), context.config.passwords.argon2);
  await context.database.sequelize.transaction((transaction) =>
    storeNewPassword(auth, user, passwordHash, { transaction, keepSessionId: request.sessionId }),
  );
  context.logger.info({ userId: user.id, via: 'change_password' }, 'password changed');
  return user;
}

export interface TokenPasswordRequest {
  purpose: PasswordTokenPurpose;
  token: unknown;
  newPassword: unknown;
}

/**
 * Sets a password through a set-password or reset link. The token is used up only here, when the new password
 * is accepted: a rejected password leaves the link valid. Every session of the user ends, because the holder of
 * the link now controls the account; the caller signs the person in afresh.
 */
export async function setPasswordWithToken(auth: AuthService, request: TokenPasswordRequest): Promise<User> {
  const { context } = auth;
  const row = await findUsableToken(context, request.purpose, request.token);

  const user = await context.models.User.scope('withPassword').findByPk(row.user_id);
  if (!user || !user.is_active) {
    throw new AuthError('invalid_token', 'This link is not valid any more: the account was deactivated. Contact support.');
  }

  let problem = checkNewPassword(request.newPassword);
  const candidate = request.newPassword as string;
  if (!problem && user.must_change_password && (await auth.verifyPassword(user.password_hash, candidate))) {
    problem = 'The new password must differ from the temporary password in your welcome email.';
  }
  if (problem) assertNoFieldErrors({ new_password: problem });

  const passwordHash = await hashPassword(normalizePassword(candidate), context.config.passwords.argon2);
  await context.database.sequelize.transaction(async (transaction) => {
    if (!(await consumeToken(context, row, transaction))) {
      throw new AuthError('invalid_token', 'This link was used a moment ago. Sign in with the password chosen then, or ask for a new link.');
    }
    await storeNewPassword(auth, user, passwordHash, { transaction, verified: true });
  });
  context.logger.info({ userId: user.id, via: request.purpose }, 'password changed');
  return user;
}

/**
 * Stores the new hash, clears the forced change and the expiry, records the sign-in, voids outstanding links
 * and ends the user's other sessions, all in `transaction`.
 */
async function storeNewPassword(
  auth: AuthService,
  user: User,
  passwordHash: string,
  options: { transaction: Transaction; keepSessionId?: string; verified?: boolean },
): Promise<void> {
  const { context } = auth;
  const { transaction } = options;

  await user.update(
    {
      password_hash: passwordHash,
      must_change_password: false,
      password_expires_at: null,
      last_login: context.now(),
      ...(options.verified ? { is_verified: true } : {}),
    },
    { transaction },
  );
  await revokeOutstandingTokens(context, user.id, transaction);
  await endSessionsOfUser(context, user.id, { exceptSessionId: options.keepSessionId, transaction });
}
