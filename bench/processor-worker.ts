// One phase of the processor benchmark, run in its own process so that its peak memory is the processor's alone.
// Reads its job from the BENCH_JOB environment variable and prints one JSON line with its figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import nodemailer from 'nodemailer';
import { loadConfig, type Config } from '../src/config.ts';
import { closeContext, createContext } from '../src/context.ts';
import { createLogger } from '../src/logger.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { generateTemporaryPassword, hashPassword } from '../src/passwords.ts';
import { runBatch } from '../src/run-batch.ts';

/** Job the parent process gives one worker process. */
export interface WorkerJob {
  phase: 'processor' | 'naive' | 'hashing';
  /** Environment for loadConfig: the caller's settings plus the benchmark database and SMTP server. */
  environment: Record<string, string>;
  batchSize: number;
  /** For the hashing phase: how many hashes. */
  count: number;
}

/** Figures one worker process prints. */
export interface WorkerResult {
  phase: WorkerJob['phase'];
  done: number;
  failed: number;
  durationMs: number;
  /** Milliseconds from claim to commit, one entry per subscriber (processing phases only). */
  claimToCommitMs: number[];
  peakRssBytes: number;
  /** CPU time of this process (all its threads, user and system) during the phase, in milliseconds. */
  cpuMs: number;
  /** Resident memory every 500 ms, in bytes, to show whether it grows with the backlog. */
  rssSamples: number[];
  concurrency: number;
  threadPoolSize: number;
}

const job = JSON.parse(process.env.BENCH_JOB ?? '{}') as WorkerJob;
const folder = mkdtempSync(path.join(tmpdir(), 'waitlist-bench-worker-'));

// The parent stops this process with SIGTERM when the benchmark is interrupted.
process.once('SIGTERM', () => {
  rmSync(folder, { recursive: true, force: true });
  process.exit(143);
});

const rssSamples: number[] = [];
const sampler = setInterval(() => rssSamples.push(process.memoryUsage.rss()), 500);

try {
  const config = loadConfig({ ...job.environment, DATA_DIR: folder, LOG_FILE: path.join(folder, 'bench.log') });
  const result = job.phase === 'hashing' ? await measureHashing(config) : await measureProcessing(config);
  clearInterval(sampler);
  process.stdout.write(`${JSON.stringify({ ...result, rssSamples, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
} finally {
  clearInterval(sampler);
  rmSync(folder, { recursive: true, force: true });
}

type PhaseResult = Omit<WorkerResult, 'rssSamples' | 'peakRssBytes'>;

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Runs `count` hashes with the processor's settings and parallelism, and nothing else. */
async function measureHashing(config: Config): Promise<PhaseResult> {
  const concurrency = config.processor.concurrency;
  let started = 0;
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();

  const slot = async () => {
    while (started < job.count) {
      started++;
      await hashPassword(generateTemporaryPassword(config.passwords.length), config.passwords.argon2);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));

  return { phase: 'hashing', done: job.count, failed: 0, durationMs: performance.now() - startedAt, cpuMs: cpuMsSince(cpuAtStart), claimToCommitMs: [], concurrency, threadPoolSize: threadPoolSize() };
}

/** Runs the processor, batch after batch as `waitlist process` does, until no subscriber is left to claim. */
async function measureProcessing(config: Config): Promise<PhaseResult> {
  const naive = job.phase === 'naive';
  const effective: Config = naive ? { ...config, processor: { ...config.processor, concurrency: 1 } } : config;
  const logger = createLogger({ ...config, production: true }, discard());
  const context = await createContext(effective, { logger, mailer: naive ? connectionPerMessageMailer(config) : undefined });
  const claimToCommitMs: number[] = [];

  let done = 0;
  let failed = 0;
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  try {
    for (;;) {
      const summary = await runBatch(context, { batchSize: job.batchSize, trigger: 'benchmark' });
      done += summary.processed + summary.existing;
      claimToCommitMs.push(...summary.outcomes.map((outcome) => outcome.lockedMs));
      failed += summary.failed;
      if (summary.outcomes.length === 0) break;
    }
  } finally {
    await closeContext(context);
  }

  return { phase: job.phase, done, failed, durationMs: performance.now() - startedAt, cpuMs: cpuMsSince(cpuAtStart), claimToCommitMs, concurrency: effective.processor.concurrency, threadPoolSize: threadPoolSize() };
}

/** The naive way's mailer: a new SMTP connection for every message, closed after it. */
function connectionPerMessageMailer(config: Config): Mailer {
  const smtp = config.email.smtp!;
  const transporter = nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, pool: false, logger: false, debug: false });

  return {
    destination: `smtp://${smtp.host}:${smtp.port} (one connection per message)`,
    async send(email) {
      const info = await transporter.sendMail({ from: config.email.from, to: email.to, subject: email.subject, html: email.html, text: email.text });
      return { messageId: info.messageId, response: String(info.response ?? '') };
    },
    close: () => transporter.close(),
  };
}

/** A console stream that drops what it gets; the log file still receives every line. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function threadPoolSize(): number {
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}

