import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIGITS, generateTemporaryPassword, hashPassword, LOWERCASE, SYMBOLS, UPPERCASE, verifyPassword } from '../src/passwords.ts';

const ALPHABET = LOWERCASE + UPPERCASE + DIGITS + SYMBOLS;

describe('generateTemporaryPassword', () => {
  test('meets the policy over many passwords', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 5000; index++) {
      const password = generateTemporaryPassword();
      assert.equal(password.length, 12);
      assert.ok([...password].some((character) => LOWERCASE.includes(character)), `${password} has a lower-case letter`);
      assert.ok([...password].some((character) => UPPERCASE.includes(character)), `${password} has an upper-case letter`);
      assert.ok([...password].some((character) => DIGITS.includes(character)), `${password} has a digit`);
      assert.ok([...password].some((character) => SYMBOLS.includes(character)), `${password} has a symbol`);
      assert.ok([...password].every((character) => ALPHABET.includes(character)), `${password} uses only the alphabet`);
      seen.add(password);
    }
    assert.equal(seen.size, 5000, 'no password repeats');
  });

  test('spreads characters evenly', () => {
    const counts = new Map<string, number>();
    const draws = 4000;
    for (let index = 0; index < draws; index++) {
      for (const character of generateTemporaryPassword(32)) counts.set(character, (counts.get(character) ?? 0) + 1);
    }

    // The four guaranteed characters favour the smaller classes a little; the other 28 are uniform over 70.
    const expected = (draws * 28) / ALPHABET.length;
    for (const character of LOWERCASE + UPPERCASE) {
      const count = counts.get(character) ?? 0;
      assert.ok(Math.abs(count - expected) < expected * 0.2, `${character} drawn ${count} times, expected about ${expected}`);
    }
  });

  test('honours a longer length', () => {
    assert.equal(generateTemporaryPassword(20).length, 20);
  });

  test('rejects lengths under 12', () => {
    assert.throws(() => generateTemporaryPassword(11), /at least 12 characters/);
  });

  test('puts guaranteed characters anywhere', () => {
    const firstIsLower = Array.from({ length: 400 }, () => LOWERCASE.includes(generateTemporaryPassword()[0]));
    assert.ok(firstIsLower.includes(false), 'the first character is not always lower-case');
  });
});

describe('hashPassword', () => {
  test('writes argon2id with the default cost', async () => {
    const hash = await hashPassword('correct horse', { memoryKib: 19456, timeCost: 2, parallelism: 1 });
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword(hash, 'correct horse'), true);
    assert.equal(await verifyPassword(hash, 'wrong horse'), false);
  });

  test('treats a malformed hash as a mismatch', async () => {
    assert.equal(await verifyPassword('not-a-hash', 'anything'), false);
  });
});
