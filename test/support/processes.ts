import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactPath } from './artifacts.ts';
import { TEST_ENVIRONMENT, type TestHarness } from './context.ts';
import { waitFor } from './wait.ts';

const WAITLIST_BIN = fileURLToPath(new URL('../../bin/waitlist.js', import.meta.url));

/** How a process ended: its exit code, or the signal that ended it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Short label for the output and log file names, such as `worker-1`. */
  name: string;
  /** Arguments after `waitlist`, such as `['process', '--interval', '1']`. */
  args: string[];
  /** The whole environment of the process, on top of PATH and HOME; see `processEnvironment`. */
  environment: Record<string, string>;
}

// Every process any test started and that has not exited yet, so that no test can leave one behind.
const running = new Set<WaitlistProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * One `waitlist` command running as its own process, the way operators run it (`node bin/waitlist.js ...`).
 * Its console output and its JSON log file go into the artifacts folder, where the secret scan reads them.
 */
export class WaitlistProcess {
  readonly pid: number;
  readonly logFile: string;
  readonly outputFile: string;
  readonly exited: Promise<ExitStatus>;
  exitStatus?: ExitStatus;

  private readonly child: ChildProcess;
  private readonly folder: string;

  constructor(options: SpawnOptions) {
    this.folder = mkdtempSync(path.join(tmpdir(), `waitlist-${options.name}-`));
    this.logFile = artifactPath('logs', `${options.name}-${Date.now()}.jsonl`);
    this.outputFile = artifactPath('output', `${options.name}-${Date.now()}.txt`);

    const output = openSync(this.outputFile, 'a');
    // The working folder is a fresh one, so that no .env file of the checkout changes the test's settings.
    this.child = spawn(process.execPath, [WAITLIST_BIN, ...options.args], {
      cwd: this.folder,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? this.folder, DATA_DIR: this.folder, LOG_FILE: this.logFile, ...options.environment },
      stdio: ['ignore', output, output],
    });
    closeSync(output);

    if (this.child.pid === undefined) throw new Error(`Could not start "waitlist ${options.args.join(' ')}"`);
    this.pid = this.child.pid;
    running.add(this);

    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        running.delete(this);
        rmSync(this.folder, { recursive: true, force: true });
        resolve(this.exitStatus);
      });
    });
  }

  get isRunning(): boolean {
    return this.exitStatus === undefined;
  }

  /** Sends `signal` to this process by its PID, unless it has exited already. */
  kill(signal: NodeJS.Signals): void {
    if (this.isRunning) this.child.kill(signal);
  }

  /** Resolves with the exit status, or throws when the process is still running after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`pid ${this.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Returns the parsed lines of the JSON log file written so far, without a line still being written. */
  logLines(): Array<Record<string, unknown>> {
    if (!existsSync(this.logFile)) return [];

    const lines: Array<Record<string, unknown>> = [];
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      try {
        if (line !== '') lines.push(JSON.parse(line));
      } catch {
        // The last line may be half written.
      }
    }
    return lines;
  }

  /** Waits for a log line that `match` accepts and returns it; fails early when the process exits first. */
  waitForLog(description: string, match: (line: Record<string, unknown>) => boolean, timeoutMs = 90_000): Promise<Record<string, unknown>> {
    return waitFor(
      `${description} in the log of pid ${this.pid}`,
      () => {
        const line = this.logLines().find(match);
        if (line) return line;
        if (!this.isRunning) throw new Error(`pid ${this.pid} exited (${JSON.stringify(this.exitStatus)}) before logging ${description}:\n${this.output()}`);
        return undefined;
      },
      { timeoutMs },
    );
  }

  /** Returns the console output so far, standard output and error together. */
  output(): string {
    return existsSync(this.outputFile) ? readFileSync(this.outputFile, 'utf8') : '';
  }
}

/** Starts `waitlist ARGS` as a child process. */
export function startWaitlist(options: SpawnOptions): WaitlistProcess {
  return new WaitlistProcess(options);
}

/** Kills every process the tests started that is still running (SIGKILL, by PID) and waits until each has exited. */
export async function killAllProcesses(): Promise<void> {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map((child) => child.exited));
}

/** Prepares a fault test: stops the processes earlier tests started, empties the processing tables, resets the SMTP server. */
export async function resetForFaultTest(harness: TestHarness): Promise<void> {
  await killAllProcesses();
  await harness.context.database.sequelize.query('TRUNCATE email_deliveries, waitlist_subscribers, users, processor_runs RESTART IDENTITY CASCADE');
  await harness.smtp.reset();
}

/**
 * Environment for a `waitlist` process on the harness's database and SMTP server: the same cheap argon2 as the
 * in-process tests, with `overrides` on top. The SMTP timeout is long, because a reply that comes after the
 * timeout is a message the server accepted while the worker counts it as failed, and then sends again.
 */
export function processEnvironment(harness: TestHarness, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...TEST_ENVIRONMENT,
    EMAIL_TIMEOUT_SECONDS: '30',
    DATABASE_URL: harness.database.url,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(harness.smtp.port),
    ...overrides,
  };
}

/** True for the log line a worker writes once it has connected and checked the migrations. */
export const isStartLine = (line: Record<string, unknown>) => line.msg === 'processor starting';

/** True for the log line of a finished run. */
export const isRunFinishedLine = (line: Record<string, unknown>) => line.msg === 'processor run finished';
