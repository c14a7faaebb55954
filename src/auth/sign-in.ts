import { col, fn, where } from 'sequelize';
import type { AppContext } from '../context.ts';
import { AuthError, assertNoFieldErrors } from './auth-error.ts';
import type { AuthService } from './auth-service.ts';
import type { ThrottleKey } from './sign-in-throttle.ts';
import type { User } from '../../models/index.ts';

/** Maximum login and password input lengths, in UTF-16 units. Longer input is rejected as invalid without a check. */
const MAX_LOGIN_INPUT = 254;
const MAX_PASSWORD_INPUT = 1024;

export interface SignInRequest {
  /** A username (matched exactly) or, when it contains "@", an email (matched without regard to case). */
  login: unknown;
  password: unknown;
  /** The client's address, as Express reports it under TRUST_PROXY. */
  address: string;
}

/** The fields of a user that the API returns to the person themselves. */
export interface PublicUser {
  id: string;
  username: string;
  email: string;
  first_name: string;
  last_name: string | null;
  is_verified: boolean;
  must_change_password: boolean;
  password_expires_at: Date | null;
  last_login: Date | null;
  date_joined: Date;
}

/**
 * Checks a login and password and returns the user. Throws `invalid_credentials` for an unknown login, an
 * inactive account, an account without a password and a wrong password alike. Each case does the same work
 * (one lookup, one throttle update, one argon2 verification), so neither the response nor its timing distinguishes them.
 * A correct but expired temporary password throws `temporary_password_expired`.
 * The first sign-in with the emailed temporary password marks the email as verified, since only that mailbox got it.
 */
export async function signIn(auth: AuthService, request: SignInRequest): Promise<User> {
  const { context } = auth;
  const { login, password } = readCredentials(request);

  // NOTE: the counter belongs to the login as typed, not to the account, so one account's username and email are
  // counted apart (twice the limit in all). Keying by account would tell whether a username and an email match.
  const loginKey: ThrottleKey = { scope: 'login', value: login };
  const addressKey: ThrottleKey = { scope: 'address', value: request.address };
  const verdict = await auth.throttle.recordAttempt([loginKey, addressKey]);
  if (verdict.justLimited) {
    context.logger.warn({ retryAfterSeconds: verdict.retryAfterSeconds }, 'sign-in throttled: too many failures for one login or client address');
  }
  if (verdict.limited) throw tooManyAttempts(verdict.retryAfterSeconds);

  const user = await findUserByLogin(context, login);
  const matches = await auth.verifyPassword(user?.password_hash, password);
  if (!user || !user.is_active || !matches) {
    throw new AuthError('invalid_credentials', 'The username or email, or the password, is not correct.');
  }

  if (user.must_change_password && isPast(context, user.password_expires_at)) {
    throw new AuthError(
      'temporary_password_expired',
      'Your temporary password has expired. Ask for your welcome email to be sent again, or set a new password with "Forgot password".',
    );
  }

  await auth.throttle.recordSuccess(loginKey, addressKey);
  await user.update({ last_login: context.now(), is_verified: user.is_verified || user.must_change_password });
  context.logger.info({ userId: user.id, mustChangePassword: user.must_change_password }, 'signed in');
  return user;
}

/** Returns the user with that username, or with that email (any case) when the login contains "@". */
export async function findUserByLogin(context: AppContext, login: string): Promise<User | undefined> {
  const User = context.models.User.scope('withPassword');
  const user = login.includes('@')
    ? await User.findOne({ where: where(fn('lower', col('email')), login.toLowerCase()) })
    : await User.findOne({ where: { username: login } });
  return user ?? undefined;
}

/** Picks the fields that the person may see about their own account; never the password hash. */
export function publicUser(user: User): PublicUser {
  return {
    id: String(user.id),
    username: user.username,
    email: user.email,
    first_name: user.first_name,
    last_name: user.last_name,
    is_verified: user.is_verified,
    must_change_password: user.must_change_password,
    password_expires_at: user.password_expires_at,
    last_login: user.last_login,
    date_joined: user.date_joined,
  };
}

/** Builds the `too_many_attempts` error with the wait rounded up to whole minutes. */
export function tooManyAttempts(retryAfterSeconds: number): AuthError {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return new AuthError(
    'too_many_attempts',
    `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or set a new password with "Forgot password".`,
    {},
    retryAfterSeconds,
  );
}

function readCredentials(request: SignInRequest): { login: string; password: string } {
  const fields: Record<string, string> = {};
  const login = typeof request.login === 'string' ? request.login.trim() : '';
  const password = typeof request.password === 'string' ? request.password : '';

  if (login === '') fields.login = 'Enter your username or email.';
  else if (login.length > MAX_LOGIN_INPUT) fields.login = `Use at most ${MAX_LOGIN_INPUT} characters.`;
  if (password === '') fields.password = 'Enter your password.';
  else if (password.length > MAX_PASSWORD_INPUT) fields.password = `Use at most ${MAX_PASSWORD_INPUT} characters.`;

  assertNoFieldErrors(fields);
  // Emails match without regard to case, so their throttle counter does too.
  return { login: login.includes('@') ? login.toLowerCase() : login, password };
}

function isPast(context: AppContext, moment: Date | null): boolean {
  return moment !== null && moment.getTime() <= context.now().getTime();
}
