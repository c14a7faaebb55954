import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { closeContext, createContext, type AppContext } from '../../src/context.ts';
import { migrate } from '../../src/database/migrator.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { TestSmtpServer } from './smtp.ts';

/** A context on its own migrated database and SMTP server, with a clock the test moves and its log lines kept. */
export interface TestHarness {
  context: AppContext;
  smtp: TestSmtpServer;
  database: TestDatabase;
  config: Config;
  /** Every log line written so far, as parsed JSON objects. */
  logs: Array<Record<string, unknown>>;
  clock: { now: Date; advanceSeconds(seconds: number): void };
  close(): Promise<void>;
}

/**
 * Environment for tests: cheap argon2 parameters so that hundreds of accounts take seconds,
 * and no wait between retries unless a test sets one.
 */
export const TEST_ENVIRONMENT = {
  NODE_ENV: 'test',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
  PROCESSOR_RETRY_BASE_SECONDS: '60',
  LOG_LEVEL: 'info',
  EMAIL_TIMEOUT_SECONDS: '2',
  FRONTEND_URL: 'http://127.0.0.1:9',
  SITE_NAME: 'Acme Beta',
};

export interface HarnessOptions {
  /** A database to use instead of a new one on TEST_DATABASE_URL, such as a test's own embedded server; dropped on close. */
  database?: TestDatabase;
}

export async function createHarness(environment: Record<string, string> = {}, options: HarnessOptions = {}): Promise<TestHarness> {
  const database = options.database ?? (await createTestDatabase());
  const smtp = await new TestSmtpServer().start();
  const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-harness-'));

  const config = loadConfig({
    ...TEST_ENVIRONMENT,
    DATABASE_URL: database.url,
    DATA_DIR: folder,
    LOG_FILE: path.join(folder, 'test.log'),
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    ...environment,
  });

  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label.toUpperCase() }) } }, sink);

  const clock = {
    now: new Date('2026-03-01T09:00:00Z'),
    advanceSeconds(seconds: number) {
      clock.now = new Date(clock.now.getTime() + seconds * 1000);
    },
  };

  const context = await createContext(config, { logger, now: () => clock.now });
  await migrate(context.database.sequelize, logger);

  return {
    context,
    smtp,
    database,
    config,
    logs,
    clock,
    async close() {
      await closeContext(context);
      await smtp.stop();
      await database.drop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
