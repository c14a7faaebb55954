import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { saveDatabaseDump } from './artifacts.ts';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the suite with "npm test", which starts a database when none is given.');
  return url;
}

/** Creates an empty database on the test server, named for this test file, and returns its URL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = new URL(serverUrl());
  const name = `waitlist_test_${randomBytes(5).toString('hex')}`;

  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();

  const url = new URL(admin.toString());
  url.pathname = `/${name}`;

  return {
    url: url.toString(),
    async drop() {
      try {
        // The secret scan after the suite reads this dump, since the database itself is gone by then.
        await saveDatabaseDump(url.toString(), name);
      } finally {
        const dropper = new pg.Client({ connectionString: admin.toString() });
        await dropper.connect();
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await dropper.end();
      }
    },
  };
}
