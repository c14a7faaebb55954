import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_ENVIRONMENT, type TestHarness } from './context.ts';

const WAITLIST_BIN = fileURLToPath(new URL('../../bin/waitlist.js', import.meta.url));

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `waitlist <args>` as its own process on the harness database, in an empty working folder (so no .env
 * applies), with `input` on standard input. It is killed after `timeoutMs`.
 */
export async function runWaitlist(harness: TestHarness, args: string[], options: { input?: string; environment?: Record<string, string>; timeoutMs?: number } = {}): Promise<CommandResult> {
  const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-cli-'));
  const child = spawn(process.execPath, [WAITLIST_BIN, ...args], {
    cwd: folder,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: folder,
      ...TEST_ENVIRONMENT,
      DATABASE_URL: harness.database.url,
      DATA_DIR: folder,
      LOG_FILE: path.join(folder, 'waitlist.log'),
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(harness.smtp.port),
      ...options.environment,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(options.input ?? '');

  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  rmSync(folder, { recursive: true, force: true });
  return { code, stdout, stderr };
}
