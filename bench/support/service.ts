import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** A server process the benchmark started on 127.0.0.1. */
export interface RunningServer {
  url: string;
  /** Sends SIGTERM to this child process and waits for it to exit. */
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const READY_TIMEOUT_MS = 90_000;

/**
 * Starts `waitlist serve` on 127.0.0.1 against `databaseUrl`: the real app and its middleware, with the scheduled
 * processor off so that only HTTP work is measured, and logging at warn. It runs in development mode, because
 * production refuses to start without the admin panel's components bundle that `npm run build` writes. The
 * TypeScript sources run through tsx, which changes start-up, not the handling of a request.
 */
export async function startService(databaseUrl: string, environment: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  return startServer(['--import', 'tsx', CLI, 'serve'], port, {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PROCESSOR_ENABLED: 'false',
    EMAIL_ALLOW_OUTBOX: 'true',
    LOG_FILE: '',
    ...environment,
  });
}

/** Starts a Node script given by `args` with PORT set, and resolves once GET /healthz returns 200. */
export async function startServer(args: string[], port: number, environment: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...environment, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  // The service logs to standard output, so both streams are kept for the message when it fails to start.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child);
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`${(error as Error).message}\n${output}`);
  }

  return { url, stop: () => stopChild(child) };
}

async function waitForHealth(url: string, child: ChildProcess) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`The server at ${url} exited with code ${child.exitCode} before it was ready`);
    const healthy = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The server at ${url} was not ready after ${READY_TIMEOUT_MS / 1000} s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
