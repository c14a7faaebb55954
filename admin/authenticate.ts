import type { Request } from 'express';
import { fn, col, where, Op } from 'sequelize';
import type { AppContext } from '../src/context.ts';
import { hashPassword, verifyPassword } from '../src/passwords.ts';
import { authServiceFor } from '../src/auth/auth-service.ts';
import type { ThrottleKey } from '../src/auth/sign-in-throttle.ts';
import type { StaffAdmin } from './staff-session.ts';

/** Key of the admin sign-in counter for the client address of `request`. */
export function adminAddressKey(request: Pick<Request, 'ip'>): ThrottleKey {
  return { scope: 'admin-address', value: request.ip ?? 'unknown' };
}

/**
 * Returns AdminJS's `authenticate`: the login (email, any case, or username) must belong to an active staff
 * account whose argon2 hash matches. The attempt was counted against the client address before (see
 * src/http/admin.ts), and a success takes it back. A failure is logged with its reason, without the login or
 * password typed.
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
      context.logger.warn({ clientAddress: req.ip, reason: reason ?? 'unknown_login' }, 'admin sign-in failed');
      return null;
    }

    // The login's own counter (shared with people's sign-in) starts again too, since its password was right.
    await authServiceFor(context).throttle.recordSuccess({ scope: 'login', value: loginKeyValue(login) }, adminAddressKey(req));
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

/** The login as people's sign-in counts it: an email without regard to case, a username as typed. */
function loginKeyValue(login: string): string {
  const trimmed = String(login ?? '').trim();
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
}

async function findByLogin(context: AppContext, login: string) {
  const trimmed = login.trim();
  if (!trimmed) return undefined;

  const user = await context.models.User.scope('withPassword').findOne({
    where: { [Op.or]: [where(fn('lower', col('email')), trimmed.toLowerCase()), { username: trimmed }] },
  });
  return user ?? undefined;
}
