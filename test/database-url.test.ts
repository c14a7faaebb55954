import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSequelize } from '../src/database/connect.ts';

function withQuery(query: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.search = query;
  return url.toString();
}

async function connect(url: string): Promise<void> {
  const sequelize = createSequelize(url, 2);
  try {
    await sequelize.authenticate();
  } finally {
    await sequelize.close();
  }
}

// The test server runs without TLS, so a connection that insists on TLS fails, and one that does not connects.
describe('DATABASE_URL TLS settings', () => {
  test('sslmode=verify-full requires TLS', async () => {
    await assert.rejects(connect(withQuery('sslmode=verify-full')), /SSL|certificate/i);
  });

  test('ssl=true requires TLS', async () => {
    await assert.rejects(connect(withQuery('ssl=true')), /SSL|certificate/i);
  });

  test('sslmode=disable connects in plain text', async () => {
    await connect(withQuery('sslmode=disable'));
  });
});
