import { Op, col, fn, where } from 'sequelize';
import { toError } from '../logger.ts';
import { classifySendError } from '../mail/send-errors.ts';
import { displayName } from '../names.ts';
import { assertNoFieldErrors } from './auth-error.ts';
import type { AuthService } from './auth-service.ts';
import { createPasswordToken, revokeOutstandingTokens } from './password-tokens.ts';
import { tooManyAttempts } from './sign-in.ts';
import type { User } from '../../models/index.ts';

/** Maximum reset emails per account per hour. Further requests get the usual response but send nothing. */
export const MAX_RESET_EMAILS_PER_HOUR = 3;

const MAX_EMAIL_LENGTH = 254;

export interface ResetRequest {
  email: unknown;
  address: string;
}

/**
 * Accepts a "forgot password" request. The response is the same whether or not an account uses the address:
 * the lookup and the email happen in the background, after the response, so its timing reveals nothing either.
 * Throws only for a malformed address or a client address over the throttle limit.
 */
export async function requestPasswordReset(auth: AuthService, request: ResetRequest): Promise<void> {
  const email = typeof request.email === 'string' ? request.email.trim() : '';
  if (email === '') assertNoFieldErrors({ email: 'Enter the email address of your account.' });
  if (email.length > MAX_EMAIL_LENGTH || !/^[^\s@]+@[^\s@]+$/.test(email)) {
    assertNoFieldErrors({ email: 'Enter an email address such as name@example.com.' });
  }

  const verdict = await auth.throttle.recordAttempt([{ scope: 'reset-request', value: request.address }]);
  if (verdict.limited) throw tooManyAttempts(verdict.retryAfterSeconds);

  // NOTE: the background work lives in this process only. If the process dies before sending, the person must request again.
  auth.runInBackground('password reset email', () => sendResetLinkIfAccount(auth, email));
}

/** Emails a reset link when an active account uses `email`; commits the link only once the SMTP server accepted it. */
export async function sendResetLinkIfAccount(auth: AuthService, email: string): Promise<void> {
  const { context } = auth;
  const user = await context.models.User.findOne({ where: [where(fn('lower', col('email')), email.toLowerCase()), { is_active: true }] });
  if (!user) return;

  if (await recentResetEmails(auth, user) >= MAX_RESET_EMAILS_PER_HOUR) {
    context.logger.info({ userId: user.id }, `password reset email skipped: ${MAX_RESET_EMAILS_PER_HOUR} already sent in the past hour`);
    return;
  }

  const transaction = await context.database.sequelize.transaction();
  try {
    // Only the newest reset link works, so that an older email lying around is of no use.
    await revokeOutstandingTokens(context, user.id, transaction, 'reset_password');
    const expiresAt = new Date(context.now().getTime() + context.config.auth.resetLinkTtlMinutes * 60 * 1000);
    const token = await createPasswordToken(context, user.id, 'reset_password', expiresAt, transaction);

    const accepted = await sendResetEmail(auth, user, token, expiresAt);
    await context.models.EmailDelivery.create(
      { recipient: user.email, kind: 'password_reset', subscriber_id: null, user_id: user.id, status: 'accepted', message_id: accepted.messageId, smtp_response: accepted.response, error_code: null, error_message: null },
      { transaction },
    );
    await transaction.commit();
    context.logger.info({ userId: user.id }, 'password reset email accepted');
  } catch (error) {
    await transaction.rollback().catch(() => undefined);
    await recordFailedResetEmail(auth, user, error);
  }
}

async function recentResetEmails(auth: AuthService, user: User): Promise<number> {
  const since = new Date(auth.context.now().getTime() - 3600 * 1000);
  return auth.context.models.PasswordToken.count({ where: { user_id: user.id, purpose: 'reset_password', created_at: { [Op.gt]: since } } });
}

async function sendResetEmail(auth: AuthService, user: User, token: string, expiresAt: Date) {
  const { config } = auth.context;
  const name = displayName(user).replace(/[\s\u0000-\u001f\u007f]+/gu, ' ').trim();

  const rendered = await auth.resetTemplate.render({
    displayName: name,
    username: user.username,
    resetUrl: `${config.email.frontendUrl}/auth/reset-password?token=${token}`,
    forgotUrl: `${config.email.frontendUrl}/auth/forgot-password`,
    expiresInMinutes: config.auth.resetLinkTtlMinutes,
    expiresOn: expiresAt.toUTCString(),
    siteName: config.email.siteName,
    year: auth.context.now().getUTCFullYear(),
  });

  return auth.context.mailer.send({
    to: { name, address: user.email },
    subject: config.auth.resetSubject.replaceAll('{site name}', config.email.siteName),
    html: rendered.html,
    text: rendered.text,
  });
}

/** Logs the failure with the user id and the error code (never the address) and records a failed delivery. */
async function recordFailedResetEmail(auth: AuthService, user: User, thrown: unknown): Promise<void> {
  const { context } = auth;
  const failure = classifySendError(thrown);
  context.logger.warn({ userId: user.id, code: failure.code, err: toError(thrown) }, 'password reset email failed; the person can ask again');

  await context.models.EmailDelivery.create({
    recipient: user.email,
    kind: 'password_reset',
    subscriber_id: null,
    user_id: user.id,
    status: 'failed',
    message_id: null,
    smtp_response: failure.responseCode ? String(failure.responseCode) : null,
    error_code: failure.code,
    error_message: failure.message,
  });
}
