// npm run bench:api: signups per second through POST /api/waitlist, against a bare Express and pg handler.
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Command, InvalidArgumentError } from 'commander';
import pg from 'pg';
import { benchmarkAction, progress, wholeNumber } from './support/command.ts';
import { cleanUpOnInterrupt } from './support/interrupt.ts';
import { createBenchDatabase } from './support/database.ts';
import { migrateBenchDatabase } from './support/migrate.ts';
import { describeMachine } from './support/machine.ts';
import { freePort, startServer, startService, type RunningServer } from './support/service.ts';
import { round } from './support/statistics.ts';

interface Options {
  duration: number;
  connections: number;
  rounds: number;
  repeatShare: number;
  json?: boolean;
}

/** Addresses on the list before the run, which the repeated signups use. */
const EXISTING_ADDRESSES = 1000;

const BASELINE = fileURLToPath(new URL('./api-baseline-server.ts', import.meta.url));

const program = new Command('bench:api')
  .description('Drive POST /api/waitlist with autocannon, and in turn a bare Express handler that only inserts the row, and compare.')
  .option('--duration <seconds>', 'seconds of load on each server, after 2 s of warm-up', wholeNumber, 10)
  .option('--connections <n>', 'concurrent connections autocannon keeps open', wholeNumber, 20)
  .option('--rounds <n>', 'times each server is driven, taking turns with the other', wholeNumber, 2)
  .option('--repeat-share <fraction>', 'share of signups that repeat an address already on the list (0 to 1)', fraction, 0.2)
  .option('--json', 'print one JSON object instead of the report')
  .action(benchmarkAction('bench:api', main));

await program.parseAsync(process.argv);

async function main(options: Options): Promise<number> {
  const database = await createBenchDatabase();
  const servers: RunningServer[] = [];
  const stopServers = async () => {
    for (const server of servers.splice(0)) await server.stop();
  };
  const removeHandlers = cleanUpOnInterrupt(async () => {
    await stopServers();
    await database.drop();
  });

  try {
    await migrateBenchDatabase(database.url);
    await addExistingAddresses(database.url);

    progress(options, 'Starting the service (waitlist serve, processor off) and the baseline (Express and pg, insert only)');
    const service = await startService(database.url, { SIGNUP_RATE_LIMIT_PER_MINUTE: '0' });
    servers.push(service);
    await expectSignupApi(service.url);
    const baseline = await startServer(['--import', 'tsx', BASELINE], await freePort(), { DATABASE_URL: database.url });
    servers.push(baseline);

    // The two take turns, so that a change in the machine's load falls on both alike; the idle one uses no CPU.
    const serviceRounds: LoadResult[] = [];
    const baselineRounds: LoadResult[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      serviceRounds.push(await drive(service.url, 'service', round, options));
      baselineRounds.push(await drive(baseline.url, 'baseline', round, options));
    }

    const ours = combine(serviceRounds);
    const theirs = combine(baselineRounds);
    const figures = {
      requests_per_s: ours.requestsPerSecond,
      p50_ms: ours.p50,
      p99_ms: ours.p99,
      errors: ours.errors,
      baseline_requests_per_s: theirs.requestsPerSecond,
      baseline_p50_ms: theirs.p50,
      baseline_p99_ms: theirs.p99,
      baseline_errors: theirs.errors,
      ratio_to_baseline: round(ours.requestsPerSecond / theirs.requestsPerSecond, 3),
      connections: options.connections,
      duration_s: options.duration,
      rounds: options.rounds,
      repeat_share: options.repeatShare,
    };

    if (options.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else printReport(options, database.server, figures);
    return 0;
  } finally {
    removeHandlers();
    await stopServers();
    await database.drop();
  }
}

/** Adds up the rounds of one server: requests over the total time, and the highest p50 and p99 of any round. */
function combine(rounds: LoadResult[]): LoadResult {
  const requests = rounds.reduce((total, result) => total + result.requestsPerSecond, 0);
  return {
    requestsPerSecond: round(requests / rounds.length),
    p50: Math.max(...rounds.map((result) => result.p50)),
    p99: Math.max(...rounds.map((result) => result.p99)),
    errors: rounds.reduce((total, result) => total + result.errors, 0),
  };
}

interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Socket errors, timeouts and responses other than 2xx. */
  errors: number;
}

/** Runs autocannon against `url` with new and repeated addresses mixed, after a warm-up. */
async function drive(url: string, label: string, roundNumber: number, options: Options): Promise<LoadResult> {
  progress(options, `Round ${roundNumber} of ${options.rounds}: driving the ${label} for ${options.duration} s with ${options.connections} connections`);
  let sequence = 0;
  const nextBody = () => {
    sequence++;
    const email = Math.random() < options.repeatShare
      ? `existing${1 + Math.floor(Math.random() * EXISTING_ADDRESSES)}@example.com`
      : `${label}-${roundNumber}-${process.pid}-${sequence}@example.com`;
    return JSON.stringify({ email, name: `Bench Person ${sequence}`, source: 'website' });
  };

  // autocannon 8 supports `warmup`, which @types/autocannon 7 does not declare.
  const settings: autocannon.Options & { warmup: { connections: number; duration: number } } = {
    url,
    connections: options.connections,
    duration: options.duration,
    warmup: { connections: options.connections, duration: 2 },
    requests: [
      {
        method: 'POST',
        path: '/api/waitlist',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        setupRequest: (request) => ({ ...request, body: nextBody() }),
      },
    ],
  };
  const result = await autocannon(settings);

  return {
    requestsPerSecond: round(result.requests.total / options.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** Stops with a clear message when this build has no signup API, rather than measuring 404s. */
async function expectSignupApi(url: string) {
  const response = await fetch(`${url}/api/waitlist`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email: 'probe@example.com' }),
  });
  if (response.status === 201 || response.status === 200) return;
  throw new Error(`POST /api/waitlist returned ${response.status} for a valid signup, so there is nothing to measure (a 404 means this build has no signup API yet): ${(await response.text()).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)}`);
}

async function addExistingAddresses(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO waitlist_subscribers (email, name, first_name, last_name, source, created_at, updated_at)
       SELECT 'existing' || n || '@example.com', 'Existing ' || n, 'Existing', n::text, 'website', now(), now()
       FROM generate_series(1, $1::integer) AS n`,
      [EXISTING_ADDRESSES],
    );
  } finally {
    await client.end();
  }
}

function printReport(options: Options, databaseServer: string, figures: Record<string, number>) {
  const lines = [
    '',
    `Machine:   ${describeMachine()}`,
    `Database:  ${databaseServer}`,
    `Load:      ${options.connections} connections, ${options.rounds} rounds of ${options.duration} s on each server in turn, ${Math.round(options.repeatShare * 100)}% of signups repeat an address on the list`,
    'Requests/s are the mean of the rounds; p50 and p99 are the highest of any round.',
    '',
    `Service:   ${figures.requests_per_s} requests/s, p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms, ${figures.errors} errors`,
    `Baseline:  ${figures.baseline_requests_per_s} requests/s, p50 ${figures.baseline_p50_ms} ms, p99 ${figures.baseline_p99_ms} ms, ${figures.baseline_errors} errors`,
    `Ratio:     ${figures.ratio_to_baseline} of the baseline's throughput`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

function fraction(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError('expected a number from 0 to 1, such as 0.2');
  return parsed;
}
