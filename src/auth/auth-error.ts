/**
 * Stable codes of the sign-in API, as sent in `{ error: { code, message, fields } }`:
 * - `invalid_input`: a field is missing or breaks a rule; `fields` names each one;
 * - `invalid_credentials`: the login or the password is wrong (never saying which);
 * - `temporary_password_expired`: the emailed temporary password is past its expiry;
 * - `too_many_attempts`: the sign-in throttle rejected the request; the `Retry-After` header gives the seconds to wait;
 * - `not_signed_in`: the request has no valid session;
 * - `password_change_required`: the person signed in with a temporary password and must replace it first;
 * - `invalid_token`: the set-password or reset link is unknown, used or replaced by a newer one;
 * - `token_expired`: the link is past its expiry;
 * - `cross_site_request`: a browser sent the request from another site.
 */
export type AuthErrorCode =
  | 'invalid_input'
  | 'invalid_credentials'
  | 'temporary_password_expired'
  | 'too_many_attempts'
  | 'not_signed_in'
  | 'password_change_required'
  | 'invalid_token'
  | 'token_expired'
  | 'cross_site_request';

const STATUS: Record<AuthErrorCode, number> = {
  invalid_input: 400,
  invalid_credentials: 401,
  temporary_password_expired: 401,
  too_many_attempts: 429,
  not_signed_in: 401,
  password_change_required: 403,
  invalid_token: 400,
  token_expired: 400,
  cross_site_request: 403,
};

/** A failure the person can act on, with a message fit to show them and, for bad input, one message per field. */
export class AuthError extends Error {
  readonly status: number;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    readonly fields: Record<string, string> = {},
    /** Seconds until a throttled request may be tried again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AuthError';
    this.status = STATUS[code];
  }
}

/** Throws `invalid_input` naming every field in `fields` when there is at least one. */
export function assertNoFieldErrors(fields: Record<string, string>): void {
  if (Object.keys(fields).length > 0) {
    throw new AuthError('invalid_input', 'Some fields are missing or invalid; see the message next to each.', fields);
  }
}
