// Runs the whole suite with Node's test runner. Without TEST_DATABASE_URL, it starts an embedded PostgreSQL
// in a temporary folder for the run and removes it afterwards. Each test file creates its own database.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { useEmbeddedPostgres } from '../src/database/embedded.ts';

const logger = pino({ level: 'warn' });

function testFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'support' ? [] : testFiles(file);
    return entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const files = requested.length > 0 ? requested : testFiles('test').sort();

  let folder: string | undefined;
  let release: (() => Promise<void>) | undefined;

  if (!process.env.TEST_DATABASE_URL) {
    folder = mkdtempSync(path.join(tmpdir(), 'waitlist-test-'));
    chmodSync(folder, 0o755);
    const embedded = await useEmbeddedPostgres(path.join(folder, 'postgres'), logger);
    process.env.TEST_DATABASE_URL = embedded.url;
    release = () => embedded.release({ force: true });
    process.stdout.write(`Testing against an embedded PostgreSQL in ${folder}\n`);
  } else {
    process.stdout.write(`Testing against TEST_DATABASE_URL\n`);
  }

  try {
    const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env: process.env });
    return await new Promise<number>((resolve) => runner.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    await release?.();
    if (folder) rmSync(folder, { recursive: true, force: true });
  }
}

process.exitCode = await main();
