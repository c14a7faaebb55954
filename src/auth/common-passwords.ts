import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The 49,233 most common passwords of the zxcvbn-ts common dictionary (@zxcvbn-ts/language-common 4.x, MIT),
 * ordered by frequency in leaked password sets. Read once, when this module is first imported, and lower-cased,
 * so that "Password123456" counts as common just like "password123456".
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((entry) => String(entry).toLowerCase()));

/** Returns whether `password` (already normalized) is on the common-password list, without regard to case. */
export function isCommonPassword(password: string): boolean {
  return COMMON_PASSWORDS.has(password.toLowerCase());
}

/** Number of distinct entries on the list, for tests and the start-up log. */
export function commonPasswordCount(): number {
  return COMMON_PASSWORDS.size;
}
