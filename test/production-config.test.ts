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

/** A complete, safe production configuration, which each test spoils in one way. */
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://waitlist:secret@db.example.com:5432/waitlist',
  EMAIL_HOST: 'smtp.example.com',
  EMAIL_USE_TLS: 'true',
  EMAIL_HOST_USER: 'apikey',
  EMAIL_HOST_PASSWORD: 'smtp-secret',
  SESSION_SECRET: 'a'.repeat(64),
};

describe('production configuration', () => {
  test('complete settings load', () => {
    const config = loadConfig(PRODUCTION);
    assert.equal(config.production, true);
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.metrics.token, undefined);
    assert.equal(config.metrics.port, undefined);
  });

  test('names every missing dependency at once', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });

    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((problem) => /^DATABASE_URL is missing, and NODE_ENV=production: set it to your PostgreSQL server/.test(problem)));
    assert.ok(problems.some((problem) => /^EMAIL_HOST is missing, and NODE_ENV=production: .*or set EMAIL_ALLOW_OUTBOX=true/.test(problem)));
    assert.ok(problems.some((problem) => /^SESSION_SECRET is missing or still the example value/.test(problem)));
  });

  test('rejects the example session secret', () => {
    const problems = problemsOf({ ...PRODUCTION, SESSION_SECRET: 'change-me-to-a-long-random-string' });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /SESSION_SECRET is missing or still the example value/);
  });

  test('outbox needs explicit permission', () => {
    const { EMAIL_HOST: _host, ...withoutSmtp } = PRODUCTION;
    assert.match(problemsOf(withoutSmtp).join('\n'), /EMAIL_HOST is missing/);

    const config = loadConfig({ ...withoutSmtp, EMAIL_ALLOW_OUTBOX: 'true' });
    assert.equal(config.email.smtp, undefined);
    assert.equal(config.email.allowOutbox, true);
  });

  test('development needs no database or SMTP', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    assert.equal(config.database.url, undefined);
    assert.equal(config.email.smtp, undefined);
  });

  test('rejects a short metrics token', () => {
    const problems = problemsOf({ ...PRODUCTION, METRICS_TOKEN: 'short' });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /METRICS_TOKEN is shorter than 16 characters/);
  });

  test('metrics port must differ from PORT', () => {
    assert.match(problemsOf({ PORT: '9000', METRICS_PORT: '9000' }).join('\n'), /METRICS_PORT and PORT are both 9000/);
    assert.match(problemsOf({ METRICS_PORT: 'nine' }).join('\n'), /METRICS_PORT: expected a whole number from 1 to 65535, or empty, got "nine"/);
  });

  test('metrics host follows HOST', () => {
    assert.equal(loadConfig({ METRICS_PORT: '9464' }).metrics.host, '127.0.0.1');
    assert.equal(loadConfig({ ...PRODUCTION, METRICS_PORT: '9464' }).metrics.host, '0.0.0.0');
    assert.equal(loadConfig({ HOST: '127.0.0.2', METRICS_PORT: '9464' }).metrics.host, '127.0.0.2');
    assert.equal(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '127.0.0.1', HOST: '0.0.0.0' }).metrics.host, '127.0.0.1');
  });

  test('log rotation defaults and limits', () => {
    const config = loadConfig({});
    assert.equal(config.log.maxSizeMb, 10);
    assert.equal(config.log.maxFiles, 5);
    assert.match(problemsOf({ LOG_FILE_MAX_FILES: '0' }).join('\n'), /LOG_FILE_MAX_FILES: expected a whole number from 1 to 100, got "0"/);
    assert.match(problemsOf({ LOG_FILE_MAX_SIZE_MB: '1.5' }).join('\n'), /LOG_FILE_MAX_SIZE_MB: expected a whole number from 1 to 10240/);
  });
});
