/** First and last name taken from a full name: the first word, then the other words joined by single spaces. */
export interface NameParts {
  firstName: string;
  /** Null when the name has one word or none. */
  lastName: string | null;
}

const FIRST_NAME_MAX = 150;
const LAST_NAME_MAX = 150;

/** Splits a full name on any run of whitespace; a blank or missing name gives no parts. */
export function extractNameParts(name: string | null | undefined): NameParts {
  const words = (name ?? '').trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return { firstName: '', lastName: null };

  const [first, ...rest] = words;
  return {
    firstName: first.slice(0, FIRST_NAME_MAX),
    lastName: rest.length > 0 ? rest.join(' ').slice(0, LAST_NAME_MAX) : null,
  };
}

interface Named {
  email: string;
  name?: string | null;
  first_name?: string | null;
  last_name?: string | null;
}

/** Returns the name to greet someone by: the full name, else first and last, else the email's local part. */
export function displayName(person: Named): string {
  const name = person.name?.trim();
  if (name) return name;

  const parts = [person.first_name, person.last_name].map((part) => part?.trim()).filter(Boolean);
  if (parts.length > 0) return parts.join(' ');

  return person.email.split('@')[0];
}
