// npm run bench:processor: how fast the processor drains a backlog, against the hashing limit and the naive way.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { describeMachine } from './support/machine.ts';
import { migrateBenchDatabase } from './support/migrate.ts';
import { buildWorker } from './support/worker-build.ts';
import { createBenchDatabase, type BenchDatabase } from './support/database.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { megabytes, percentile, round } from './support/statistics.ts';
import { countSubscribers, seedSubscribers } from './support/subscribers.ts';
import type { WorkerJob, WorkerResult } from './processor-worker.ts';

interface Options {
  count: number;
  batchSize: number;
  hashingCount?: number;
  naiveCount?: number;
  minHashCost?: boolean;
  json?: boolean;
}

/** Argon2id at the lowest cost the configuration accepts, to show what the database and mail path alone allow. */
const MINIMUM_HASH_COST = { ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1' };

const WORKER = fileURLToPath(new URL('./processor-worker.ts', import.meta.url));

const program = new Command('bench:processor')
  .description('Drain a backlog of subscribers with the real processor and compare it with the hashing limit and the naive way.')
  .option('--count <n>', 'subscribers in the backlog', wholeNumber, 2000)
  .option('--batch-size <n>', 'subscribers claimed per run, runs back to back until the backlog is empty', wholeNumber, 500)
  .option('--hashing-count <n>', 'hashes for the hashing limit (default: --count)', wholeNumber)
  .option('--naive-count <n>', 'subscribers processed the naive way (default: --count)', wholeNumber)
  .option('--min-hash-cost', 'hash at the lowest argon2 cost the configuration accepts (1024 KiB, 1 pass) instead of the production defaults')
  .option('--json', 'print one JSON object instead of the report')
  .action(async (options: Options) => {
    process.exitCode = await main(options).catch((error: Error) => {
      process.stderr.write(`bench:processor: ${error.message}\n`);
      return 1;
    });
  });

await program.parseAsync(process.argv);

async function main(options: Options): Promise<number> {
  const database = await createBenchDatabase();
  const smtp = await startSmtpSink();

  try {
    return await measure(options, database, smtp);
  } finally {
    await smtp.stop();
    await database.drop();
  }
}

async function measure(options: Options, database: BenchDatabase, smtp: SmtpSink): Promise<number> {
  await migrateBenchDatabase(database.url);
  const environment = workerEnvironment(options, database.url, smtp.port);
  const job = (phase: WorkerJob['phase'], count: number): WorkerJob => ({ phase, environment, batchSize: options.batchSize, count });

  progress(options, `Processing ${options.count} subscribers with the processor`);
  await seedSubscribers(database.url, options.count);
  const processor = await runWorker(job('processor', options.count));
  await expectDrained(database.url, options.count, smtp, 'processor');

  const hashingCount = options.hashingCount ?? options.count;
  progress(options, `Hashing ${hashingCount} passwords alone at the same parallelism`);
  const hashing = await runWorker(job('hashing', hashingCount));

  const naiveCount = options.naiveCount ?? options.count;
  progress(options, `Processing ${naiveCount} subscribers the naive way`);
  await seedSubscribers(database.url, naiveCount);
  smtp.reset();
  const naive = await runWorker(job('naive', naiveCount));
  await expectDrained(database.url, naiveCount, smtp, 'naive');

  const figures = summarise(processor, hashing, naive);
  if (options.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else printReport(options, database, environment, figures, processor);
  return 0;
}

function summarise(processor: WorkerResult, hashing: WorkerResult, naive: WorkerResult) {
  const throughput = rate(processor);
  const hashingLimit = rate(hashing);
  const naiveRate = rate(naive);

  return {
    throughput_per_s: round(throughput),
    hashing_limit_per_s: round(hashingLimit),
    efficiency: round(throughput / hashingLimit, 3),
    naive_per_s: round(naiveRate),
    speedup_vs_naive: round(throughput / naiveRate, 2),
    p50_ms: round(percentile(processor.claimToCommitMs, 50)),
    p95_ms: round(percentile(processor.claimToCommitMs, 95)),
    peak_rss_mb: megabytes(processor.peakRssBytes),
    rss_first_half_max_mb: megabytes(Math.max(0, ...processor.rssSamples.slice(0, processor.rssSamples.length >> 1))),
    rss_second_half_max_mb: megabytes(Math.max(0, ...processor.rssSamples.slice(processor.rssSamples.length >> 1))),
    cpu_ms_per_subscriber: round(processor.cpuMs / processor.done, 2),
    cpu_ms_per_hash: round(hashing.cpuMs / hashing.done, 2),
    count: processor.done,
    concurrency: processor.concurrency,
    thread_pool_size: processor.threadPoolSize,
  };
}

function rate(result: WorkerResult): number {
  return result.done / (result.durationMs / 1000);
}

function printReport(options: Options, database: BenchDatabase, environment: Record<string, string>, figures: ReturnType<typeof summarise>, processor: WorkerResult) {
  const hashCost = `argon2id m=${environment.ARGON2_MEMORY_KIB ?? '19456'} KiB, t=${environment.ARGON2_TIME_COST ?? '2'}, p=${environment.ARGON2_PARALLELISM ?? '1'}`;
  const lines = [
    '',
    `Machine:      ${describeMachine()}`,
    `Database:     ${database.server}`,
    `Backlog:      ${figures.count} subscribers, batches of ${options.batchSize}, concurrency ${figures.concurrency}, libuv thread pool ${figures.thread_pool_size}, ${hashCost}`,
    '',
    `Processor:    ${figures.throughput_per_s} subscribers/s (${round(processor.durationMs / 1000)} s)`,
    `Claim to commit: p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms`,
    `Peak RSS:     ${figures.peak_rss_mb} MB (max in the first half of the run ${figures.rss_first_half_max_mb} MB, second half ${figures.rss_second_half_max_mb} MB)`,
    `Processor CPU: ${figures.cpu_ms_per_subscriber} ms per subscriber (the worker process, all threads; PostgreSQL and the SMTP server not included)`,
    `Hashing limit: ${figures.hashing_limit_per_s} hashes/s at the same parallelism (${figures.cpu_ms_per_hash} ms CPU per hash)`,
    `Efficiency:   ${figures.efficiency} of the hashing limit`,
    `Naive way:    ${figures.naive_per_s} subscribers/s (one at a time, a new SMTP connection per email)`,
    `Speedup:      ${figures.speedup_vs_naive}x the naive way`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/** Settings for the worker: the caller's environment, pointed at the benchmark database and SMTP server. */
function workerEnvironment(options: Options, databaseUrl: string, smtpPort: number): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return {
    ...inherited,
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtpPort),
    EMAIL_USE_TLS: 'false',
    EMAIL_USE_SSL: 'false',
    EMAIL_HOST_USER: '',
    EMAIL_HOST_PASSWORD: '',
    EMAIL_RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: 'info',
    ...(options.minHashCost ? MINIMUM_HASH_COST : {}),
  };
}

async function runWorker(job: WorkerJob): Promise<WorkerResult> {
  const child = spawn(process.execPath, [await buildWorker(WORKER)], {
    env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`The ${job.phase} phase failed with exit code ${code}`);

  return JSON.parse(output.trim().split('\n').at(-1)!) as WorkerResult;
}

/** Stops the benchmark when a phase left subscribers behind or lost emails: its figures would mean nothing. */
async function expectDrained(url: string, count: number, smtp: SmtpSink, phase: string) {
  const { waiting, processed } = await countSubscribers(url);
  if (waiting > 0 || processed !== count || smtp.accepted() !== count) {
    throw new Error(`The ${phase} phase left ${waiting} subscribers waiting, processed ${processed} of ${count}, and the SMTP server accepted ${smtp.accepted()} emails`);
  }
}

function progress(options: Options, message: string) {
  if (!options.json) process.stderr.write(`${message}...\n`);
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return parsed;
}
