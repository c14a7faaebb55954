import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayName, extractNameParts } from '../src/names.ts';

describe('extractNameParts', () => {
  const cases: Array<[string | null, string, string | null]> = [
    ['Ada Lovelace', 'Ada', 'Lovelace'],
    ['  Grace   Brewster  Murray Hopper ', 'Grace', 'Brewster Murray Hopper'],
    ['Cher', 'Cher', null],
    ['', '', null],
    ['   ', '', null],
    [null, '', null],
    ['Jean-Luc\tPicard\nthe Second', 'Jean-Luc', 'Picard the Second'],
    ['José Ñúñez', 'José', 'Ñúñez'],
    ['\u00a0Nbsp\u00a0Name\u00a0', 'Nbsp', 'Name'],
  ];

  for (const [name, first, last] of cases) {
    test(`splits ${JSON.stringify(name)}`, () => {
      assert.deepEqual(extractNameParts(name), { firstName: first, lastName: last });
    });
  }

  test('caps each part at 150 characters', () => {
    const parts = extractNameParts(`${'a'.repeat(200)} ${'b'.repeat(200)}`);
    assert.equal(parts.firstName.length, 150);
    assert.equal(parts.lastName!.length, 150);
  });
});

describe('displayName', () => {
  test('prefers the full name', () => {
    assert.equal(displayName({ email: 'x@example.com', name: 'Ada Lovelace', first_name: 'A', last_name: 'L' }), 'Ada Lovelace');
  });

  test('falls back to first and last name', () => {
    assert.equal(displayName({ email: 'x@example.com', name: '  ', first_name: 'Alan', last_name: 'Turing' }), 'Alan Turing');
    assert.equal(displayName({ email: 'x@example.com', name: null, first_name: 'Alan', last_name: null }), 'Alan');
  });

  test('falls back to the email local part', () => {
    assert.equal(displayName({ email: 'katherine.johnson@example.net', name: null, first_name: '', last_name: null }), 'katherine.johnson');
  });
});
