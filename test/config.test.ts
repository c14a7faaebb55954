import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

function problemsOf(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  test('applies documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.http.port, 3000);
    assert.equal(config.processor.intervalSeconds, 60);
    assert.equal(config.processor.batchSize, 10);
    assert.equal(config.processor.enabled, true);
    assert.equal(config.passwords.ttlHours, 168);
    assert.equal(config.passwords.length, 12);
    assert.deepEqual({ ...config.passwords.argon2 }, { memoryKib: 19456, timeCost: 2, parallelism: 1 });
    assert.equal(config.email.smtp, undefined, 'no SMTP server means the outbox');
    assert.match(config.email.outboxDir, /\.data\/outbox$/);
    assert.match(config.database.embeddedDir, /\.data\/postgres$/);
    assert.equal(config.email.frontendUrl, 'http://localhost:3000');
    assert.ok(config.log.file?.endsWith('waitlist_processor.log'));
    assert.ok(Object.isFrozen(config.processor));
  });

  test('names each bad variable', () => {
    const problems = problemsOf({ PROCESSOR_BATCH_SIZE: 'ten', PROCESSOR_ENABLED: 'maybe', LOG_LEVEL: 'loud' });
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /PROCESSOR_BATCH_SIZE: expected a whole number from 1 to 10000, got "ten"/);
    assert.match(problems.join('\n'), /PROCESSOR_ENABLED: expected true or false, got "maybe"/);
    assert.match(problems.join('\n'), /LOG_LEVEL: .*use debug, info, warn, error or silent/);
  });

  test('rejects passwords shorter than 12', () => {
    assert.match(problemsOf({ TEMP_PASSWORD_LENGTH: '8' }).join(), /TEMP_PASSWORD_LENGTH: expected a whole number from 12/);
  });

  test('rejects contradictory TLS settings', () => {
    assert.match(problemsOf({ EMAIL_HOST: 'smtp.example.com', EMAIL_USE_TLS: 'true', EMAIL_USE_SSL: 'true' }).join(), /both true: set only one.*587.*465/);
    assert.match(problemsOf({ EMAIL_HOST: 'smtp.example.com', EMAIL_USE_SSL: 'true', EMAIL_PORT: '587' }).join(), /EMAIL_USE_SSL.*EMAIL_PORT=587.*EMAIL_PORT=465/);
    assert.match(problemsOf({ EMAIL_HOST: 'smtp.example.com', EMAIL_USE_TLS: 'true', EMAIL_PORT: '465' }).join(), /EMAIL_USE_TLS.*EMAIL_PORT=465.*EMAIL_PORT=587/);
  });

  test('picks the port for the TLS mode', () => {
    assert.equal(loadConfig({ EMAIL_HOST: 'smtp.example.com', EMAIL_USE_SSL: 'true' }).email.smtp?.port, 465);
    assert.equal(loadConfig({ EMAIL_HOST: 'smtp.example.com', EMAIL_USE_TLS: 'true' }).email.smtp?.port, 587);
  });

  test('production refuses weak argon2 and a missing secret', () => {
    const problems = problemsOf({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '1024' });
    assert.match(problems.join('\n'), /ARGON2_MEMORY_KIB/);
    assert.match(problems.join('\n'), /SESSION_SECRET is missing or still the example value/);
  });

  test('production refuses the example secret', () => {
    assert.match(problemsOf({ NODE_ENV: 'production', SESSION_SECRET: 'change-me-to-a-long-random-string' }).join(), /SESSION_SECRET/);
  });

  test('keeps odd intervals exactly', () => {
    assert.equal(loadConfig({ PROCESSOR_INTERVAL_SECONDS: '45' }).processor.intervalSeconds, 45);
  });
});
