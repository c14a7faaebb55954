// Measures how long the sign-in API takes to reject a wrong password and an unknown login, with the production
// argon2 cost, so that the two can be compared. Run: TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
// node --import tsx bench/sign-in-timing.ts [rounds]. It creates and drops its own database on that server.
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../src/config.ts';
import { closeContext, createContext } from '../src/context.ts';
import { migrate } from '../src/database/migrator.ts';
import { createApp } from '../src/http/app.ts';
import { hashPassword } from '../src/passwords.ts';
import { createTestDatabase } from '../test/support/database.ts';

const rounds = Number(process.argv[2] ?? 200);
const database = await createTestDatabase();
const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-bench-'));

try {
  // Production argon2 defaults; throttle limits high enough that no request is throttled.
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATA_DIR: folder,
    LOG_FILE: '',
    LOG_LEVEL: 'silent',
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '1000',
    SIGN_IN_MAX_FAILURES_PER_ADDRESS: '100000',
  });
  const context = await createContext(config, { logger: pino({ level: 'silent' }) });
  await migrate(context.database.sequelize, context.logger);
  await context.models.User.create({
    username: 'known',
    email: 'known@example.com',
    password_hash: await hashPassword('the right password', config.passwords.argon2),
    last_name: null,
    phone_number: null,
    password_expires_at: null,
    last_login: null,
  });

  const app = createApp(context);
  const samples = { wrongPassword: [] as number[], unknownLogin: [] as number[] };
  const attempt = async (login: string, into: number[]) => {
    const started = process.hrtime.bigint();
    const response = await request(app).post('/api/auth/login').send({ login, password: 'a wrong password' });
    into.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (response.status !== 401) throw new Error(`expected 401, got ${response.status}`);
  };

  // Warm-up: the dummy hash, the connection pool and the JIT.
  for (let index = 0; index < 10; index++) await attempt('nobody', []);
  for (let index = 0; index < rounds; index++) {
    await attempt('known', samples.wrongPassword);
    await attempt('nobody', samples.unknownLogin);
  }

  const row = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))].toFixed(1);
    return `| ${name} | ${values.length} | ${at(0.5)} | ${at(0.9)} | ${at(0.99)} |`;
  };
  process.stdout.write(`argon2id m=${config.passwords.argon2.memoryKib} KiB, t=${config.passwords.argon2.timeCost}, p=${config.passwords.argon2.parallelism}\n`);
  process.stdout.write('| case | requests | median ms | p90 ms | p99 ms |\n| --- | --- | --- | --- | --- |\n');
  process.stdout.write(`${row('wrong password', samples.wrongPassword)}\n${row('unknown login', samples.unknownLogin)}\n`);

  await closeContext(context);
} finally {
  await database.drop();
  rmSync(folder, { recursive: true, force: true });
}
