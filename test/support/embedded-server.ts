import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startEmbeddedServer, stopEmbeddedServer, useEmbeddedPostgres } from '../../src/database/embedded.ts';
import { saveDatabaseDump } from './artifacts.ts';
import type { TestDatabase } from './database.ts';

/** A test's own embedded PostgreSQL, which the test may stop and start again on the same port. */
export interface RestartableDatabase extends TestDatabase {
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Starts an embedded PostgreSQL in a new temporary folder. Tests that restart the database use their own
 * server, since the suite's server (embedded or PostgreSQL 15) serves the other test files at the same time.
 */
export async function startOwnEmbeddedServer(): Promise<RestartableDatabase> {
  const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-restart-'));
  // The postgres OS user, which runs the server when the tests run as root, must reach the data folder.
  chmodSync(folder, 0o755);
  const dataDir = path.join(folder, 'postgres');
  const logger = pino({ level: 'warn' });

  const embedded = await useEmbeddedPostgres(dataDir, logger);
  const port = Number(new URL(embedded.url).port);

  return {
    url: embedded.url,
    port,
    stop: () => stopEmbeddedServer(dataDir, logger),
    start: () => startEmbeddedServer(dataDir, port, logger),
    async drop() {
      try {
        await saveDatabaseDump(embedded.url, 'restarted-embedded');
      } finally {
        await embedded.release({ force: true });
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
