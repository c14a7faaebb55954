import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commonPasswordCount, isCommonPassword } from '../src/auth/common-passwords.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, checkNewPassword } from '../src/auth/password-policy.ts';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('new password rules', () => {
  test('common list has at least 10,000 entries', () => {
    assert.ok(commonPasswordCount() >= 10_000, `${commonPasswordCount()} entries`);
  });

  test('common list ignores case', () => {
    assert.equal(isCommonPassword('qwerty123456'), true);
    assert.equal(isCommonPassword('QWERTY123456'), true);
    assert.equal(isCommonPassword('plum tractor sings at dawn'), false);
  });

  test('length limits count characters', () => {
    assert.match(checkNewPassword('a'.repeat(MIN_PASSWORD_LENGTH - 1))!, /at least 12 characters; this one has 11/);
    assert.equal(checkNewPassword('ab cd ef gh i'), undefined);
    assert.equal(checkNewPassword('🙂'.repeat(MIN_PASSWORD_LENGTH)), undefined, 'twelve emoji are twelve characters');
    assert.equal(checkNewPassword('x'.repeat(MAX_PASSWORD_LENGTH - 1) + 'y'), undefined);
    assert.match(checkNewPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1))!, /at most 256/);
  });

  test('any characters are allowed', () => {
    for (const candidate of ['all lower case words', 'ÄÖÜ äöü ß éèê', '密码是一个很长很长的句子', '            tabs\tand spaces']) {
      assert.equal(checkNewPassword(candidate), undefined, candidate);
    }
  });

  test('missing password is named', () => {
    assert.match(checkNewPassword(undefined)!, /Enter a new password/);
    assert.match(checkNewPassword('')!, /Enter a new password/);
    assert.match(checkNewPassword(12345678901234)!, /Enter a new password/);
  });

  test('new password must differ', () => {
    assert.match(checkNewPassword('Temp0rary!Pass', 'Temp0rary!Pass')!, /must differ/);
    assert.match(checkNewPassword('café au lait ok', 'cafe\u0301 au lait ok')!, /must differ/, 'compared after normalization');
  });
});

describe('sign-in settings', () => {
  test('defaults', () => {
    const config = loadConfig({ NODE_ENV: 'test' }, '');

    assert.equal(config.auth.welcomeCredential, 'password');
    assert.equal(config.auth.welcomeLinkTtlHours, 72);
    assert.equal(config.auth.resetLinkTtlMinutes, 60);
    assert.deepEqual({ ...config.auth.throttle }, { windowMinutes: 15, maxFailuresPerAccount: 10, maxFailuresPerAddress: 100 });
    assert.equal(config.email.frontendUrl, 'http://localhost:3000', 'links point at the built-in pages');
  });

  test('welcome credential is validated', () => {
    assert.equal(loadConfig({ WELCOME_CREDENTIAL: ' LINK ' }, '').auth.welcomeCredential, 'link');

    assert.throws(
      () => loadConfig({ WELCOME_CREDENTIAL: 'magic' }, ''),
      (error: unknown) => error instanceof ConfigError && /WELCOME_CREDENTIAL: .*\(use password .* or link/.test(error.message),
    );
  });

  test('link lifetimes are bounded', () => {
    assert.throws(() => loadConfig({ WELCOME_LINK_TTL_HOURS: '0' }, ''), /WELCOME_LINK_TTL_HOURS: expected a whole number from 1 to 720/);
    assert.throws(() => loadConfig({ RESET_LINK_TTL_MINUTES: '2' }, ''), /RESET_LINK_TTL_MINUTES: expected a whole number from 5 to 1440/);
    assert.throws(() => loadConfig({ SIGN_IN_MAX_FAILURES_PER_ACCOUNT: 'many' }, ''), /SIGN_IN_MAX_FAILURES_PER_ACCOUNT/);
  });
});
