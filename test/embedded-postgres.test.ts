import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { useEmbeddedPostgres } from '../src/database/embedded.ts';

const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-embedded-'));
chmodSync(folder, 0o755);
const dataDir = path.join(folder, 'postgres');
const logger = pino({ level: 'silent' });

after(() => rmSync(folder, { recursive: true, force: true }));

test('embedded server is shared, then stopped by the last user', async () => {
  const [first, second] = await Promise.all([useEmbeddedPostgres(dataDir, logger), useEmbeddedPostgres(dataDir, logger)]);
  assert.equal(first.url, second.url, 'two starters at once share one server');
  assert.ok(existsSync(path.join(dataDir, 'PG_VERSION')));

  // No query runs in between, so nothing but the second user's presence keeps the server up.
  await first.release();
  assert.ok(existsSync(path.join(dataDir, 'postmaster.pid')), 'the server stays up while another process uses it');
  const other = new pg.Client({ connectionString: second.url });
  await other.connect();
  const { rows } = await other.query('SELECT 1 AS one');
  assert.equal(rows[0].one, 1);
  await other.end();

  await second.release();
  assert.ok(!existsSync(path.join(dataDir, 'postmaster.pid')), 'the last user stops the server');

  const again = await useEmbeddedPostgres(dataDir, logger);
  const client = new pg.Client({ connectionString: again.url });
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS kept (id int)');
  await client.end();
  await again.release();
  const reopened = await useEmbeddedPostgres(dataDir, logger);
  const check = new pg.Client({ connectionString: reopened.url });
  await check.connect();
  const kept = await check.query("SELECT to_regclass('kept') AS name");
  await check.end();
  await reopened.release({ force: true });
  assert.equal(kept.rows[0].name, 'kept', 'data survives a restart');
});
