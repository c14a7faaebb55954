import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usernameBase, usernameCandidate } from '../src/usernames.ts';

test('usernameBase keeps allowed characters', () => {
  const cases: Array<[string, string]> = [
    ['Ada.Lovelace@example.com', 'ada.lovelace'],
    ['john+news@example.com', 'johnnews'],
    ['  Mixed_Case-Name@example.com ', 'mixed_case-name'],
    ['ßüñ@example.com', 'user'],
    ['...@example.com', 'user'],
    ['.lead.and.trail.@example.com', 'lead.and.trail'],
    ['"quoted name"@example.com', 'quotedname'],
  ];
  for (const [email, expected] of cases) assert.equal(usernameBase(email), expected, email);
});

test('usernameBase leaves room for a suffix', () => {
  assert.equal(usernameBase(`${'a'.repeat(200)}@example.com`).length, 140);
});

test('usernameCandidate numbers from two', () => {
  assert.equal(usernameCandidate('sam', 1), 'sam');
  assert.equal(usernameCandidate('sam', 2), 'sam2');
  assert.equal(usernameCandidate('sam', 11), 'sam11');
});
