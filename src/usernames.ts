/** Used when an email's local part keeps no allowed character. */
export const FALLBACK_USERNAME = 'user';

const USERNAME_MAX = 150;

/**
 * Derives the username base from an email: the local part, lower-cased, reduced to letters, digits, `.`, `_` and `-`.
 * Letters outside ASCII are dropped too, so usernames stay typeable everywhere.
 */
export function usernameBase(email: string): string {
  const localPart = email.trim().split('@')[0] ?? '';
  const base = localPart
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '')
    .replace(/^[._-]+|[._-]+$/g, '');
  return (base || FALLBACK_USERNAME).slice(0, USERNAME_MAX - 10);
}

/** Returns the candidate for the nth try: the base itself first, then base2, base3 and so on. */
export function usernameCandidate(base: string, attempt: number): string {
  return attempt <= 1 ? base : `${base}${attempt}`;
}
