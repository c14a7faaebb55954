import type { Request } from 'express';
import { fn, col, where, Op } from 'sequelize';
import type { AppContext } from '../src/context.ts';
import { hashPassword, verifyPassword } from '../src/passwords.ts';
import { recordSignInFailure, clearSignInFailures } from '../src/sign-in-throttle.ts';
import type { StaffAdmin } from './staff-session.ts';

/** Key of the failed sign-in counter for the client address of `request`. */
export function throttleKey(request: Pick<Request, 'ip'>): string {
  return `admin:${request.ip ?? 'unknown'}`;
}

/**
 * Returns AdminJS's `authenticate`: the login (email, any case, or username) must belong to an active staff
 * account whose argon2 hash matches. Every failure counts against the client address, and the log names the
 * reason, without the login or password typed.
 */
export function staffAuthenticator(context: AppContext) {
  let decoyHash: Promise<string> | undefined;

  return async (login: string, password: string, authContext?: { req: Request }): Promise<StaffAdmin | null> => {
    const req = authContext!.req;
    const user = await findByLogin(context, String(login ?? ''));

    // An unknown login still costs one hash check, so the response time does not tell which accounts exist.
    decoyHash ??= hashPassword('decoy password for unknown logins', context.config.passwords.argon2);
    const hash = user?.password_hash ?? (await decoyHash);
    const matches = await verifyPassword(hash, String(password ?? ''));

    const reason = failureReason(user, matches);
    if (reason || !user) {
      await countFailure(context, req, reason ?? 'unknown_login');
      return null;
    }

    await clearSignInFailures(context, throttleKey(req));
    await context.models.User.update({ last_login: context.now() }, { where: { id: user.id } });
    context.logger.info({ userId: user.id, clientAddress: req.ip }, 'admin signed in');
    return { id: user.id, email: user.email, title: user.username, isSuperuser: user.is_superuser };
  };
}

function failureReason(user: { is_active: boolean; is_staff: boolean } | undefined, matches: boolean): string | undefined {
  if (!user) return 'unknown_login';
  if (!matches) return 'wrong_password';
  if (!user.is_active) return 'inactive';
  if (!user.is_staff) return 'not_staff';
  return undefined;
}

async function findByLogin(context: AppContext, login: string) {
  const trimmed = login.trim();
  if (!trimmed) return undefined;

  const user = await context.models.User.scope('withPassword').findOne({
    where: { [Op.or]: [where(fn('lower', col('email')), trimmed.toLowerCase()), { username: trimmed }] },
  });
  return user ?? undefined;
}

async function countFailure(context: AppContext, req: Request, reason: string) {
  const { signInMaxFailures, signInLockoutMinutes } = context.config.admin;
  const state = await recordSignInFailure(context, throttleKey(req), { maxFailures: signInMaxFailures, lockoutMinutes: signInLockoutMinutes });

  context.logger.warn({ clientAddress: req.ip, reason, failures: state.failures }, 'admin sign-in failed');
  if (state.blocked) {
    context.logger.warn({ clientAddress: req.ip, lockoutMinutes: signInLockoutMinutes }, 'admin sign-in locked for this address after repeated failures');
  }
}
