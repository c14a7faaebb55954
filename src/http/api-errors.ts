import { BaseError, ConnectionError, DatabaseError } from 'sequelize';
import { sqlState } from '../database/direct-sql.ts';
import type { FieldErrors } from '../subscriber-input.ts';

/** An API error response: the HTTP status and the `{ error: { code, message, fields } }` body. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  fields?: FieldErrors;
}

export function errorBody(error: ApiError) {
  return { error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) } };
}

// body-parser marks each failure it detects with a `type`; every one of them is caused by the request.
const BODY_PARSER_ERRORS: Record<string, Omit<ApiError, 'message'> & { message: (limit: number) => string }> = {
  'entity.too.large': { status: 413, code: 'body_too_large', message: (limit) => `The request body is larger than ${limit} bytes; send only email, name, phone_number and source.` },
  'parameters.too.many': { status: 413, code: 'body_too_large', message: () => 'The form has too many fields; send only email, name, phone_number and source.' },
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: () => 'The request body is not valid JSON; send an object such as {"email": "ada@example.com"}.' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: () => 'Only UTF-8 bodies are accepted; send the body as UTF-8.' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: () => 'The Content-Encoding is not supported; send the body as identity, gzip, deflate or br.' },
  'request.aborted': { status: 400, code: 'request_aborted', message: () => 'The request body ended before it was complete.' },
  'request.size.invalid': { status: 400, code: 'invalid_length', message: () => 'The request body is shorter or longer than its Content-Length header says.' },
};

// PostgreSQL error classes that mean the server went away or is shutting down: 08 (connection) and 57P (operator intervention).
const UNAVAILABLE_SQLSTATE = /^(08|57P)/;

/**
 * Turns a thrown value into the API error to respond with. Errors caused by the request keep their 4xx status;
 * a database that cannot be reached gives 503; anything else is a fault of ours (500) and `isServerFault` is true.
 */
export function toApiError(thrown: unknown, bodyLimit: number): ApiError & { isServerFault: boolean } {
  const error = thrown as { type?: string; status?: number; expose?: boolean };
  const known = error?.type ? BODY_PARSER_ERRORS[error.type] : undefined;
  if (known) return { status: known.status, code: known.code, message: known.message(bodyLimit), isServerFault: false };

  // Other errors that http-errors marked safe to show (expose) are client errors too.
  if (error?.expose && typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
    return { status: error.status, code: 'bad_request', message: String((thrown as Error).message), isServerFault: false };
  }

  if (isDatabaseUnavailable(thrown)) {
    return { status: 503, code: 'service_unavailable', message: 'The waitlist is unavailable for a moment; try again shortly.', isServerFault: true };
  }
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side; try again later.', isServerFault: true };
}

function isDatabaseUnavailable(thrown: unknown): boolean {
  if (thrown instanceof ConnectionError) return true;
  if (thrown instanceof DatabaseError) {
    const code = (thrown.parent as { code?: string } | undefined)?.code ?? '';
    return UNAVAILABLE_SQLSTATE.test(code);
  }
  if (thrown instanceof BaseError) return /ECONNREFUSED|ECONNRESET|terminat/i.test(String((thrown as Error).message));

  // pg's own errors, from statements sent outside Sequelize (src/database/direct-sql.ts).
  const code = sqlState(thrown) ?? '';
  if (UNAVAILABLE_SQLSTATE.test(code) || /^(ECONNREFUSED|ECONNRESET|EPIPE)$/.test(code)) return true;
  return thrown instanceof Error && /Connection terminated/i.test(thrown.message);
}
