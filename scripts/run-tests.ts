// Runs the whole suite with Node's test runner. Without TEST_DATABASE_URL, it starts an embedded PostgreSQL
// in a temporary folder for the run and removes it afterwards. Each test file creates its own database.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { useEmbeddedPostgres } from '../src/database/embedded.ts';
import { ARTIFACTS_VARIABLE, scanArtifacts } from '../test/support/artifacts.ts';

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

  const artifacts = mkdtempSync(path.join(tmpdir(), 'waitlist-test-artifacts-'));
  process.env[ARTIFACTS_VARIABLE] = artifacts;

  try {
    const status = await runTests(files, artifacts);
    return Math.max(status, reportSecretScan(artifacts));
  } finally {
    await release?.();
    if (folder) rmSync(folder, { recursive: true, force: true });
  }
}

/** Runs the test files and copies the runner's output into the artifacts folder, where the secret scan reads it. */
async function runTests(files: string[], artifacts: string): Promise<number> {
  mkdirSync(path.join(artifacts, 'output'), { recursive: true });
  const captured = createWriteStream(path.join(artifacts, 'output', 'test-runner.txt'));
  // With its output piped, the runner would fall back to TAP on a terminal too, so name the usual reporter.
  const reporter = process.stdout.isTTY ? 'spec' : 'tap';

  const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-reporter=${reporter}`, ...files], {
    stdio: ['inherit', 'pipe', 'pipe'],
    env: process.env,
  });
  runner.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    captured.write(chunk);
  });
  runner.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    captured.write(chunk);
  });

  const status = await new Promise<number>((resolve) => runner.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  await new Promise((resolve) => captured.end(resolve));
  return status;
}

/**
 * Looks for every temporary password and set-password token that the tests saw in the output, log files and
 * database dumps of the whole run. Returns 1 and keeps the folder when one is found; the report names the
 * files, never the secrets.
 */
function reportSecretScan(artifacts: string): number {
  const scan = scanArtifacts(artifacts);

  if (scan.findings.length === 0) {
    process.stdout.write(`Secret scan: ${scan.secrets} temporary passwords and set-password tokens looked for in ${scan.files} files; none found.\n`);
    rmSync(artifacts, { recursive: true, force: true });
    return 0;
  }

  process.stderr.write(`Secret scan: a temporary password or set-password token was found in ${scan.findings.length} place(s); the files are kept in ${artifacts}:\n`);
  for (const finding of scan.findings) process.stderr.write(`  ${finding.file} (${finding.form})\n`);
  return 1;
}

process.exitCode = await main();
