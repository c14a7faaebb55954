import { isCommonPassword } from './common-passwords.ts';

/** Minimum length of a new password, in characters (Unicode code points after normalization). */
export const MIN_PASSWORD_LENGTH = 12;

/** Maximum length of a new password, in characters: generous for passphrases, and a cap on the work one request causes. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Puts a password in Unicode NFKC form, so that the same characters typed on different keyboards or systems
 * give the same password (NIST SP 800-63B, section 5.1.1.2).
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * Checks a new password against the only rules there are: length, not a common password, and not the password
 * it replaces. Returns the message for the field, or undefined when the password is acceptable.
 * `previous` is the plaintext being replaced, when the caller has it.
 */
export function checkNewPassword(candidate: unknown, previous?: string): string | undefined {
  if (typeof candidate !== 'string' || candidate.length === 0) return 'Enter a new password.';

  const password = normalizePassword(candidate);
  const length = [...password].length;

  if (length < MIN_PASSWORD_LENGTH) {
    return `Use at least ${MIN_PASSWORD_LENGTH} characters; this one has ${length}. A few unrelated words make a long password that is easy to remember.`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `Use at most ${MAX_PASSWORD_LENGTH} characters; this one has ${length}.`;
  }
  if (isCommonPassword(password)) {
    return 'This password is on the list of the most common passwords, so it is among the first that attackers try. Choose another.';
  }
  if (previous !== undefined && password === normalizePassword(previous)) {
    return 'The new password must differ from the current one.';
  }

  return undefined;
}
