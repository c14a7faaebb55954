import { randomInt } from 'node:crypto';
import argon2 from 'argon2';
import { MIN_TEMP_PASSWORD_LENGTH, type Config } from './config.ts';

export const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
export const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
export const SYMBOLS = '!@#$%^&*';

const CLASSES = [LOWERCASE, UPPERCASE, DIGITS, SYMBOLS];
const ALPHABET = CLASSES.join('');

/**
 * Generates a temporary password with at least one character of each class.
 * `crypto.randomInt` draws by rejection sampling, so no character is likelier than another (no modulo bias).
 */
export function generateTemporaryPassword(length: number = MIN_TEMP_PASSWORD_LENGTH): string {
  if (!Number.isInteger(length) || length < MIN_TEMP_PASSWORD_LENGTH) {
    throw new RangeError(`A temporary password needs at least ${MIN_TEMP_PASSWORD_LENGTH} characters, got ${length}`);
  }

  const characters = CLASSES.map((set) => set[randomInt(set.length)]);
  while (characters.length < length) characters.push(ALPHABET[randomInt(ALPHABET.length)]);

  // Fisher-Yates shuffle, so the guaranteed characters are not always in front.
  for (let index = characters.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    [characters[index], characters[other]] = [characters[other], characters[index]];
  }

  return characters.join('');
}

export type HashSettings = Config['passwords']['argon2'];

/** Hashes a password with argon2id at the configured cost; the result carries its own salt and parameters. */
export function hashPassword(password: string, settings: HashSettings): Promise<string> {
  return argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: settings.memoryKib,
    timeCost: settings.timeCost,
    parallelism: settings.parallelism,
  });
}

/** Checks a password against an argon2 hash; a malformed hash counts as a mismatch. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
