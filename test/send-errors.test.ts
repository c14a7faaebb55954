import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifySendError } from '../src/mail/send-errors.ts';
import { decideRetry } from '../src/retry-policy.ts';

const smtpError = (fields: Record<string, unknown>) => Object.assign(new Error('smtp said no'), fields);

test('classifySendError sorts replies and faults', () => {
  const cases: Array<[Record<string, unknown>, string, boolean, boolean]> = [
    [{ code: 'ECONNECTION' }, 'smtp_unavailable', true, true],
    [{ code: 'ETIMEDOUT' }, 'smtp_unavailable', true, true],
    [{ code: 'EAUTH', responseCode: 535 }, 'smtp_auth_failed', true, true],
    [{ code: 'EENVELOPE', responseCode: 550 }, 'smtp_rejected', false, false],
    [{ code: 'EMESSAGE', responseCode: 554 }, 'smtp_rejected', false, false],
    [{ code: 'EENVELOPE', responseCode: 452 }, 'smtp_deferred', true, false],
    [{ code: 'EMESSAGE', responseCode: 454 }, 'smtp_deferred', true, false],
    [{ code: 'EPROTOCOL', responseCode: 421 }, 'smtp_deferred', true, true],
    [{}, 'send_failed', true, false],
  ];
  for (const [fields, code, temporary, serverWide] of cases) {
    const failure = classifySendError(smtpError(fields));
    assert.equal(failure.code, code, JSON.stringify(fields));
    assert.equal(failure.temporary, temporary, `${JSON.stringify(fields)} temporary`);
    assert.equal(failure.serverWide, serverWide, `${JSON.stringify(fields)} server-wide`);
  }
});

test('decideRetry doubles the wait up to the cap', () => {
  const settings = { maxAttempts: 10, retryBaseSeconds: 60, retryMaxSeconds: 300 } as never;
  const now = new Date('2026-01-01T00:00:00Z');
  const waits = [1, 2, 3, 4, 5].map((attempt) => {
    const decision = decideRetry({ temporary: true }, attempt, settings, now);
    assert.equal(decision.giveUp, false);
    return ((decision as { nextAttemptAt: Date }).nextAttemptAt.getTime() - now.getTime()) / 1000;
  });
  assert.deepEqual(waits, [60, 120, 240, 300, 300]);
});

test('decideRetry gives up on permanent failures', () => {
  const settings = { maxAttempts: 10, retryBaseSeconds: 60, retryMaxSeconds: 300 } as never;
  assert.deepEqual(decideRetry({ temporary: false }, 1, settings, new Date()), { giveUp: true });
  assert.deepEqual(decideRetry({ temporary: true }, 10, settings, new Date()), { giveUp: true });
});
