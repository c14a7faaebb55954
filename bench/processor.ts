// npm run bench:processor: how fast the processor drains a backlog, against the hashing limit and the naive way.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { benchmarkAction, progress, wholeNumber } from './support/command.ts';
import { cleanUpOnInterrupt } from './support/interrupt.ts';
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
  rounds: number;
  hashingCount?: number;
  naiveCount?: number;
  minHashCost?: boolean;
  json?: boolean;
}

/** Argon2id at the lowest cost the configuration accepts, to show what the database and mail path alone allow. */
const MINIMUM_HASH_COST = { ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1' };

const WORKER = fileURLToPath(new URL('./processor-worker.ts', import.meta.url));
const PROCFILE = fileURLToPath(new URL('../Procfile', import.meta.url));

const { sizeThreadPool } = createRequire(import.meta.url)('../bin/thread-pool.js') as { sizeThreadPool(environment: NodeJS.ProcessEnv): number };

/** The worker process running now, stopped if the benchmark is interrupted. */
let activeWorker: ChildProcess | undefined;

const program = new Command('bench:processor')
  .description('Drain a backlog of subscribers with the real processor and compare it with the hashing limit and the naive way.')
  .option('--count <n>', 'subscribers in the backlog', wholeNumber, 2000)
  .option('--batch-size <n>', 'subscribers claimed per run, runs back to back until the backlog is empty', wholeNumber, 500)
  .option('--rounds <n>', 'split each phase into this many parts and run the parts in turn (processor, hashing, naive), so that a change in the machine\'s load falls on all three alike', wholeNumber, 3)
  .option('--hashing-count <n>', 'hashes for the hashing limit (default: --count)', wholeNumber)
  .option('--naive-count <n>', 'subscribers processed the naive way (default: --count)', wholeNumber)
  .option('--min-hash-cost', 'hash at the lowest argon2 cost the configuration accepts (1024 KiB, 1 pass) instead of the production defaults')
  .option('--json', 'print one JSON object instead of the report')
  .action(benchmarkAction('bench:processor', main));

await program.parseAsync(process.argv);

async function main(options: Options): Promise<number> {
  const database = await createBenchDatabase();
  const smtp = await startSmtpSink();
  const cleanUp = async () => {
    activeWorker?.kill('SIGTERM');
    await smtp.stop();
    await database.drop();
  };
  const removeHandlers = cleanUpOnInterrupt(cleanUp);

  try {
    return await measure(options, database, smtp);
  } finally {
    removeHandlers();
    await cleanUp();
  }
}

async function measure(options: Options, database: BenchDatabase, smtp: SmtpSink): Promise<number> {
  await migrateBenchDatabase(database.url);
  const environment = workerEnvironment(options, database.url, smtp.port);
  const hashingCount = options.hashingCount ?? options.count;
  const naiveCount = options.naiveCount ?? options.count;
  const runs: Record<WorkerJob['phase'], WorkerResult[]> = { processor: [], hashing: [], naive: [] };

  // The three phases take turns, so that a change in the machine's load falls on all of them alike.
  for (let round = 1; round <= options.rounds; round++) {
    const jobs: WorkerJob[] = [
      { phase: 'processor', environment, batchSize: options.batchSize, count: shareOf(options.count, round, options.rounds) },
      { phase: 'hashing', environment, batchSize: options.batchSize, count: shareOf(hashingCount, round, options.rounds) },
      { phase: 'naive', environment, batchSize: options.batchSize, count: shareOf(naiveCount, round, options.rounds) },
    ];
    for (const job of jobs.filter((candidate) => candidate.count > 0)) {
      progress(options, `Round ${round} of ${options.rounds}: ${describeJob(job)}`);
      runs[job.phase].push(job.phase === 'hashing' ? await runWorker(job) : await drainBacklog(job, database.url, smtp));
    }
  }

  const figures = summarise(combine(runs.processor), combine(runs.hashing), combine(runs.naive));
  if (options.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else printReport(options, database, environment, figures);
  return 0;
}

/** Adds `job.count` subscribers, runs the worker until none is left, and checks that every one got its email. */
async function drainBacklog(job: WorkerJob, databaseUrl: string, smtp: SmtpSink): Promise<WorkerResult> {
  await seedSubscribers(databaseUrl, job.count);
  smtp.reset();
  const result = await runWorker(job);
  await expectDrained(databaseUrl, job.count, smtp, job.phase);
  return result;
}

/** Returns the part of `total` that round `round` of `rounds` takes; the parts add up to `total`. */
function shareOf(total: number, round: number, rounds: number): number {
  return Math.floor((total * round) / rounds) - Math.floor((total * (round - 1)) / rounds);
}

function describeJob(job: WorkerJob): string {
  if (job.phase === 'hashing') return `hashing ${job.count} passwords alone at the same parallelism`;
  if (job.phase === 'naive') return `processing ${job.count} subscribers the naive way`;
  return `processing ${job.count} subscribers with the processor`;
}

/** Adds up the rounds of one phase: counts, times and CPU add, memory takes the maximum. */
function combine(results: WorkerResult[]): CombinedResult {
  const halves = results.map((result) => splitInHalves(result.rssSamples));
  return {
    done: sum(results.map((result) => result.done)),
    durationMs: sum(results.map((result) => result.durationMs)),
    cpuMs: sum(results.map((result) => result.cpuMs)),
    claimToCommitMs: results.flatMap((result) => result.claimToCommitMs),
    peakRssBytes: Math.max(0, ...results.map((result) => result.peakRssBytes)),
    firstHalfRssBytes: Math.max(0, ...halves.map((half) => half.first)),
    secondHalfRssBytes: Math.max(0, ...halves.map((half) => half.second)),
    concurrency: results[0]?.concurrency ?? 0,
    threadPoolSize: results[0]?.threadPoolSize ?? 0,
  };
}

interface CombinedResult {
  done: number;
  durationMs: number;
  cpuMs: number;
  claimToCommitMs: number[];
  peakRssBytes: number;
  /** Highest resident memory sampled in the first and the second half of a run, to show whether it grows. */
  firstHalfRssBytes: number;
  secondHalfRssBytes: number;
  concurrency: number;
  threadPoolSize: number;
}

function splitInHalves(samples: number[]): { first: number; second: number } {
  const middle = samples.length >> 1;
  return { first: Math.max(0, ...samples.slice(0, middle)), second: Math.max(0, ...samples.slice(middle)) };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function summarise(processor: CombinedResult, hashing: CombinedResult, naive: CombinedResult) {
  const throughput = rate(processor);
  const hashingLimit = rate(hashing);
  const naiveRate = rate(naive);

  return {
    throughput_per_s: round(throughput),
    hashing_limit_per_s: round(hashingLimit),
    efficiency: round(throughput / hashingLimit, 3),
    naive_per_s: round(naiveRate),
    speedup_vs_naive: round(throughput / naiveRate, 2),
    // The maximum gain of any processor over the naive way on this machine: hashing alone at full parallelism.
    hashing_limit_vs_naive: round(hashingLimit / naiveRate, 2),
    p50_ms: round(percentile(processor.claimToCommitMs, 50)),
    p95_ms: round(percentile(processor.claimToCommitMs, 95)),
    peak_rss_mb: megabytes(processor.peakRssBytes),
    rss_first_half_max_mb: megabytes(processor.firstHalfRssBytes),
    rss_second_half_max_mb: megabytes(processor.secondHalfRssBytes),
    processor_s: round(processor.durationMs / 1000),
    cpu_ms_per_subscriber: round(processor.cpuMs / processor.done, 2),
    cpu_ms_per_hash: round(hashing.cpuMs / hashing.done, 2),
    count: processor.done,
    concurrency: processor.concurrency,
    thread_pool_size: processor.threadPoolSize,
  };
}

function rate(result: CombinedResult): number {
  return result.done / (result.durationMs / 1000);
}

function printReport(options: Options, database: BenchDatabase, environment: Record<string, string>, figures: ReturnType<typeof summarise>) {
  const hashCost = `argon2id m=${environment.ARGON2_MEMORY_KIB ?? '19456'} KiB, t=${environment.ARGON2_TIME_COST ?? '2'}, p=${environment.ARGON2_PARALLELISM ?? '1'}`;
  const lines = [
    '',
    `Machine:      ${describeMachine()}`,
    `Database:     ${database.server}`,
    `Backlog:      ${figures.count} subscribers, batches of ${options.batchSize}, concurrency ${figures.concurrency}, libuv thread pool ${figures.thread_pool_size}, ${hashCost}`,
    '',
    `Processor:    ${figures.throughput_per_s} subscribers/s (${figures.processor_s} s in ${options.rounds} round(s))`,
    `Claim to commit: p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms`,
    `Peak RSS:     ${figures.peak_rss_mb} MB (highest sample in the first half of a run ${figures.rss_first_half_max_mb} MB, in the second half ${figures.rss_second_half_max_mb} MB)`,
    `Processor CPU: ${figures.cpu_ms_per_subscriber} ms per subscriber (the worker process, all threads; PostgreSQL and the SMTP server not included)`,
    `Hashing limit: ${figures.hashing_limit_per_s} hashes/s at the same parallelism (${figures.cpu_ms_per_hash} ms CPU per hash)`,
    `Efficiency:   ${figures.efficiency} of the hashing limit`,
    `Naive way:    ${figures.naive_per_s} subscribers/s (one at a time, a new SMTP connection per email)`,
    `Speedup:      ${figures.speedup_vs_naive}x the naive way (hashing alone reaches ${figures.hashing_limit_vs_naive}x: the ceiling on this machine now)`,
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
  // The worker runs as the Procfile's worker does: with its node options, and the thread pool bin/waitlist.js sets.
  const environment: NodeJS.ProcessEnv = { ...process.env, BENCH_JOB: JSON.stringify(job) };
  sizeThreadPool(environment);
  const child = spawn(process.execPath, [...procfileNodeOptions('worker'), await buildWorker(WORKER)], {
    env: environment,
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  activeWorker = child;
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  activeWorker = undefined;
  if (code !== 0) throw new Error(`The ${job.phase} phase failed with exit code ${code}`);

  return JSON.parse(output.trim().split('\n').at(-1)!) as WorkerResult;
}

/** Returns the options between `node` and the script in the Procfile's line for `processType`. */
function procfileNodeOptions(processType: string): string[] {
  const line = readFileSync(PROCFILE, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith(`${processType}:`));
  if (!line) throw new Error(`The Procfile has no "${processType}" line`);

  const words = line.slice(processType.length + 1).trim().split(/\s+/);
  return words.slice(1, words.findIndex((word) => word.startsWith('bin/')));
}

/** Stops the benchmark when a phase left subscribers behind or lost emails: its figures would mean nothing. */
async function expectDrained(url: string, count: number, smtp: SmtpSink, phase: string) {
  const { waiting, processed } = await countSubscribers(url);
  if (waiting > 0 || processed !== count || smtp.accepted() !== count) {
    throw new Error(`The ${phase} phase left ${waiting} subscribers waiting, processed ${processed} of ${count}, and the SMTP server accepted ${smtp.accepted()} emails`);
  }
}
