import { toError } from '../logger.ts';

/**
 * Stable codes for why a message was not accepted, as stored in `last_error_code` and `email_deliveries.error_code`.
 * - `smtp_unavailable`: no usable connection (refused, timed out, dropped, TLS failed).
 * - `smtp_auth_failed`: the server refused our credentials.
 * - `smtp_deferred`: a 4xx reply, such as 421 or 454; the server asks us to try later.
 * - `smtp_rejected`: a 5xx reply for this message or recipient; trying again will not help.
 * - `send_failed`: anything else the mailer threw, treated as temporary.
 * - `internal_error`: a failure before sending, such as a database error or a broken template; temporary.
 */
export type SendErrorCode = 'smtp_unavailable' | 'smtp_auth_failed' | 'smtp_deferred' | 'smtp_rejected' | 'send_failed' | 'internal_error';

export interface SendFailure {
  code: SendErrorCode;
  message: string;
  /** A temporary failure is retried later with backoff; a permanent one gives up at once. */
  temporary: boolean;
  /** The failure concerns the server rather than this message, so the rest of the run would fail the same way. */
  serverWide: boolean;
  responseCode?: number;
}

const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EPROTOCOL']);

/** Sorts a nodemailer error into one of the send error codes. */
export function classifySendError(thrown: unknown): SendFailure {
  const error = toError(thrown) as Error & { code?: string; responseCode?: number };
  const message = error.message.slice(0, 1000);
  const responseCode = typeof error.responseCode === 'number' ? error.responseCode : undefined;

  if (error.code === 'EAUTH') {
    return { code: 'smtp_auth_failed', message, temporary: true, serverWide: true, responseCode };
  }
  if (responseCode !== undefined && responseCode >= 500) {
    return { code: 'smtp_rejected', message, temporary: false, serverWide: false, responseCode };
  }
  if (responseCode !== undefined && responseCode >= 400) {
    // 421 closes the whole connection; other 4xx replies concern this message only.
    return { code: 'smtp_deferred', message, temporary: true, serverWide: responseCode === 421, responseCode };
  }
  if (error.code && CONNECTION_CODES.has(error.code)) {
    return { code: 'smtp_unavailable', message, temporary: true, serverWide: true };
  }
  return { code: 'send_failed', message, temporary: true, serverWide: false };
}
