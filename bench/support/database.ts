import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { useEmbeddedPostgres } from '../../src/database/embedded.ts';

/** An empty database made for one benchmark run. */
export interface BenchDatabase {
  url: string;
  /** Location of the database, for the report: a server named by an environment variable, or the embedded one. */
  server: string;
  /** Drops the database, or stops the embedded server and removes its folder. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on the server in TEST_DATABASE_URL or DATABASE_URL (in that order), or starts an
 * embedded PostgreSQL in a temporary folder when neither is set. The database named in the URL is never touched:
 * the benchmark creates `waitlist_bench_<random>` beside it and drops it at the end.
 */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const variable = ['TEST_DATABASE_URL', 'DATABASE_URL'].find((name) => process.env[name]);
  if (variable) return createOnServer(process.env[variable]!, variable);
  return createEmbedded();
}

async function createOnServer(serverUrl: string, variable: string): Promise<BenchDatabase> {
  const name = `waitlist_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });

  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    throw new Error(`Could not create the benchmark database on the server in ${variable}: ${(error as Error).message}. The role needs CREATEDB, or unset ${variable} to use an embedded PostgreSQL.`);
  } finally {
    await admin.end().catch(() => undefined);
  }

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  return {
    url: url.toString(),
    server: `${variable} (PostgreSQL at ${url.host})`,
    async drop() {
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

async function createEmbedded(): Promise<BenchDatabase> {
  const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-bench-'));
  // The embedded server runs as the postgres user when we are root, and must reach its folder.
  chmodSync(folder, 0o755);
  const embedded = await useEmbeddedPostgres(path.join(folder, 'postgres'), pino({ level: 'warn' }));

  return {
    url: embedded.url,
    server: 'embedded PostgreSQL in a temporary folder',
    async drop() {
      await embedded.release({ force: true });
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
