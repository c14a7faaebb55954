import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { neutraliseCell, restoreCell } from '../src/spreadsheet-cells.ts';
import {
  normaliseEmail,
  normaliseName,
  normalisePhone,
  normaliseSource,
  parseSignupTime,
  parseSubscriberInput,
  type FieldResult,
} from '../src/subscriber-input.ts';

function value<T>(result: FieldResult<T>): T {
  assert.ok(result.ok, result.ok ? '' : `expected valid, got: ${result.reason}`);
  return result.value;
}

function reason<T>(result: FieldResult<T>): string {
  assert.ok(!result.ok, `expected invalid, got ${JSON.stringify(result.ok && result.value)}`);
  return result.reason;
}

describe('normaliseEmail', () => {
  test('trims padding and lower-cases the domain', () => {
    assert.equal(value(normaliseEmail('  Ada.Lovelace@Example.COM \t\n')), 'Ada.Lovelace@example.com');
    assert.equal(value(normaliseEmail('\u00a0ada@example.com\ufeff')), 'ada@example.com');
  });

  test('converts an IDN domain to ASCII', () => {
    assert.equal(value(normaliseEmail('ada@BÜCHER.example')), 'ada@xn--bcher-kva.example');
    assert.equal(value(normaliseEmail('ada@münchen.de')), 'ada@xn--mnchen-3ya.de');
    assert.equal(value(normaliseEmail('ada@xn--mnchen-3ya.de')), 'ada@xn--mnchen-3ya.de', 'the ASCII form stays as it is');
  });

  test('keeps quoted and UTF-8 local parts', () => {
    assert.equal(value(normaliseEmail('"john smith"@example.com')), '"john smith"@example.com');
    assert.equal(value(normaliseEmail('ßüñ@example.com')), 'ßüñ@example.com');
    assert.equal(value(normaliseEmail("o'brien+news@example.com")), "o'brien+news@example.com");
  });

  test('applies NFC to decomposed text', () => {
    assert.equal(value(normaliseEmail('jose\u0301@example.com')), 'jos\u00e9@example.com');
  });

  test('rejects malformed addresses with the fix', () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /Enter an email address, such as ada@example\.com/],
      ['   ', /Enter an email address/],
      ['ada.example.com', /with an @ and a domain/],
      ['ada@', /Enter the domain after the @/],
      ['@example.com', /Enter the part before the @/],
      ['ada lovelace@example.com', /part before the @ contains a space/],
      ['ada@@example.com', /part before the @ contains a space, a second @/],
      ['a..b@example.com', /part before the @/],
      ['ada@localhost', /"localhost" after the @ is not a valid domain name/],
      ['ada@exa_mple.com', /not a valid domain name/],
      ['ada@-example.com', /not a valid domain name/],
      ['ada@example..com', /not a valid domain name/],
      ['ada@1.2.3.4', /not a valid domain name/],
      ['ada@[192.0.2.1]', /not an IP address/],
      ['ada\u0000@example.com', /part before the @/],
      ['ada\r\nBcc: x@example.com', /part before the @|domain/],
      [42, /as text, such as "ada@example\.com"/],
      [['a@example.com', 'b@example.com'], /Send one email address, not a list/],
      [{ address: 'a@example.com' }, /as text/],
      ['\ud800@example.com', /unpaired surrogate/],
    ];
    for (const [input, expected] of cases) assert.match(reason(normaliseEmail(input)), expected, JSON.stringify(input));
  });

  test('enforces RFC length limits', () => {
    assert.ok(normaliseEmail(`${'a'.repeat(64)}@example.com`).ok);
    assert.match(reason(normaliseEmail(`${'a'.repeat(65)}@example.com`)), /at most 64 bytes/);
    const longDomain = `${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.${'g'.repeat(58)}.com`;
    assert.match(reason(normaliseEmail(`${'a'.repeat(10)}@${longDomain}`)), /at most 254 bytes/);
  });
});

describe('normaliseName', () => {
  test('trims and maps blank to null', () => {
    assert.equal(value(normaliseName('  Ada   Lovelace ')), 'Ada   Lovelace');
    assert.equal(value(normaliseName('   ')), null);
    assert.equal(value(normaliseName(undefined)), null);
    assert.equal(value(normaliseName(null)), null);
  });

  test('rejects control characters', () => {
    for (const name of ['Eve\r\nBcc: x@example.com', 'Tab\there', 'Nul\u0000', 'Del\u007f', 'Line\u2028sep', 'Evil\u202eoverride', 'C1\u0085next']) {
      assert.match(reason(normaliseName(name)), /control characters/, JSON.stringify(name));
    }
  });

  test('counts characters, not bytes', () => {
    assert.equal(value(normaliseName('é'.repeat(255))), 'é'.repeat(255));
    assert.equal(value(normaliseName('😀'.repeat(255)))?.length, 510, 'astral characters count once');
    assert.match(reason(normaliseName('x'.repeat(256))), /at most 255 characters; this one has 256/);
  });

  test('keeps markup as text', () => {
    assert.equal(value(normaliseName('<b>Ada</b> & Co')), '<b>Ada</b> & Co');
  });
});

describe('normalisePhone', () => {
  test('stores international numbers as E.164', () => {
    assert.equal(value(normalisePhone('+44 20 7946 0958')), '+442079460958');
    assert.equal(value(normalisePhone('+44 (0)20-7946-0958')), '+442079460958');
    assert.equal(value(normalisePhone('+1 (201) 555-0123')), '+12015550123');
    assert.equal(value(normalisePhone('')), null);
  });

  test('uses the default country when set', () => {
    assert.equal(value(normalisePhone('020 7946 0958', { phoneCountry: 'GB' })), '+442079460958');
    assert.equal(value(normalisePhone('(201) 555-0123', { phoneCountry: 'US' })), '+12015550123');
  });

  test('rejects bad numbers with an example', () => {
    assert.match(reason(normalisePhone('020 7946 0958')), /with \+ and the country code, such as \+44 20 7946 0958/);
    assert.match(reason(normalisePhone('+44 20 7946')), /not a valid phone number/);
    assert.match(reason(normalisePhone('call me')), /not a phone number this service can read/);
    assert.match(reason(normalisePhone('+1 201 555 0123 ext. 5')), /cannot include an extension/);
    assert.match(reason(normalisePhone('+'.repeat(100))), /too long/);
    assert.match(reason(normalisePhone(442079460958)), /as text, such as "\+442079460958"/);
  });
});

describe('normaliseSource', () => {
  test('accepts values and labels in any case', () => {
    assert.equal(value(normaliseSource('referral')), 'referral');
    assert.equal(value(normaliseSource(' Social media ')), 'social_media');
    assert.equal(value(normaliseSource('EMAIL-CAMPAIGN')), 'email_campaign');
    assert.equal(value(normaliseSource('')), 'website');
    assert.equal(value(normaliseSource(undefined)), 'website');
  });

  test('rejects others listing all eight', () => {
    const message = reason(normaliseSource('tiktok'));
    for (const source of ['website', 'social_media', 'email_campaign', 'referral', 'advertisement', 'influencer', 'newsletter', 'other']) {
      assert.ok(message.includes(source), source);
    }
    assert.match(reason(normaliseSource('__proto__')), /Source must be one of/);
  });
});

describe('parseSubscriberInput', () => {
  test('reports every invalid field at once', () => {
    const result = parseSubscriberInput({ email: 'nope', name: 'a\nb', phone_number: '12', source: 'tv' });
    assert.ok(!result.ok);
    assert.deepEqual(Object.keys(result.errors).sort(), ['email', 'name', 'phone_number', 'source']);
  });

  test('returns normalised fields', () => {
    const result = parseSubscriberInput({ email: ' Ada@Example.com', name: ' Ada ', phone_number: '+442079460958', source: 'Referral', extra: 'ignored' });
    assert.ok(result.ok);
    assert.deepEqual(result.value, { email: 'Ada@example.com', name: 'Ada', phone_number: '+442079460958', source: 'referral' });
  });
});

describe('parseSignupTime', () => {
  const now = new Date('2026-03-01T09:00:00Z');

  test('reads ISO dates and times', () => {
    assert.equal(value(parseSignupTime('2025-01-31', now))?.toISOString(), '2025-01-31T00:00:00.000Z');
    assert.equal(value(parseSignupTime('2025-01-31 14:05', now))?.toISOString(), '2025-01-31T14:05:00.000Z');
    assert.equal(value(parseSignupTime('2025-01-31T14:05:06.789Z', now))?.toISOString(), '2025-01-31T14:05:06.789Z');
    assert.equal(value(parseSignupTime('2025-01-31T14:05:06+02:00', now))?.toISOString(), '2025-01-31T12:05:06.000Z');
    assert.equal(value(parseSignupTime('', now)), undefined);
  });

  test('rejects impossible and future times', () => {
    assert.match(reason(parseSignupTime('2025-02-30', now)), /created_at must be a date/);
    assert.match(reason(parseSignupTime('31/01/2025', now)), /such as 2026-01-31T14:05:00Z/);
    assert.match(reason(parseSignupTime('2025-01-31T25:00:00Z', now)), /created_at must be a date/);
    assert.match(reason(parseSignupTime('2025-01-31T10:00:00+15:00', now)), /created_at must be a date/);
    assert.match(reason(parseSignupTime('2027-01-01', now)), /is in the future/);
  });
});

describe('spreadsheet cells', () => {
  test('neutralises formula starts', () => {
    for (const cell of ['=1+1', '+442079460958', '-2', '@SUM(A1)', '\t=1', '\r=1']) assert.equal(neutraliseCell(cell), `'${cell}`);
    for (const cell of ['Ada', '', 'a=b', "O'Brien"]) assert.equal(neutraliseCell(cell), cell);
  });

  test('restore undoes neutralise exactly', () => {
    for (const cell of ['=1+1', "'=1+1", "''+44", 'Ada', "'plain", '', '-', "'"]) assert.equal(restoreCell(neutraliseCell(cell)), cell, JSON.stringify(cell));
  });
});
