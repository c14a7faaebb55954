// npm run bench:admin: the admin panel's pages at a million subscribers, timed through the routes the browser calls.
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import pg from 'pg';
import { ARGON2_FLOOR } from '../src/config.ts';
import { hashPassword } from '../src/passwords.ts';
import { loadSubscribers } from './support/admin-data.ts';
import { benchmarkAction, progress, wholeNumber } from './support/command.ts';
import { cleanUpOnInterrupt } from './support/interrupt.ts';
import { createBenchDatabase } from './support/database.ts';
import { describeMachine } from './support/machine.ts';
import { migrateBenchDatabase } from './support/migrate.ts';
import { startService, type RunningServer } from './support/service.ts';
import { percentile, round } from './support/statistics.ts';

interface Options {
  count: number;
  samples: number;
  json?: boolean;
}

const LIST = '/admin/api/resources/waitlist_subscribers/actions/list';

/** The pages timed, as the panel's browser code requests them (AdminJS 7 API routes). */
const PAGES = [
  { name: 'first_page', label: 'First list page', path: `${LIST}?page=1` },
  { name: 'filtered', label: 'Filtered: processed, source referral', path: `${LIST}?page=1&filters.is_processed=true&filters.source=referral` },
  { name: 'search_email', label: 'Search by email fragment "turing77"', path: `${LIST}?page=1&filters.search=turing77` },
  { name: 'search_name', label: 'Search by name "Liskov"', path: `${LIST}?page=1&filters.search=Liskov` },
  { name: 'dashboard', label: 'Dashboard', path: '/admin/api/dashboard' },
  { name: 'page_1000', label: 'List page 1,000', path: `${LIST}?page=1000` },
];

const TARGET_P95_MS = 300;

// Rows on a list page: AdminJS's default `settings.defaultPerPage`, which the panel does not change.
const LIST_PAGE_SIZE = 10;

const program = new Command('bench:admin')
  .description('Load subscribers (a million by default) and time the admin panel list, filters, search, dashboard and page 1,000 with a signed-in session.')
  .option('--count <n>', 'subscribers to load', wholeNumber, 1_000_000)
  .option('--samples <n>', 'timed requests per page, after one untimed', wholeNumber, 20)
  .option('--json', 'print one JSON object instead of the report')
  .action(benchmarkAction('bench:admin', main));

await program.parseAsync(process.argv);

async function main(options: Options): Promise<number> {
  const database = await createBenchDatabase();
  let server: RunningServer | undefined;
  const removeHandlers = cleanUpOnInterrupt(async () => {
    await server?.stop();
    await database.drop();
  });

  try {
    await migrateBenchDatabase(database.url);
    const startedLoading = performance.now();
    await loadSubscribers(database.url, options.count, (done) => progress(options, `Loaded ${done} subscribers`));
    const loadSeconds = round((performance.now() - startedLoading) / 1000);
    const credentials = await addStaffAccount(database.url);

    progress(options, 'Starting the service (waitlist serve, processor off)');
    server = await startService(database.url);
    const cookie = await signIn(server.url, credentials);

    const timings: Record<string, { p50_ms: number; p95_ms: number; max_ms: number }> = {};
    for (const page of PAGES) {
      progress(options, `Timing ${page.label}`);
      timings[page.name] = await timePage(server.url, page.path, cookie, options.samples);
    }

    const slowest = Math.max(...Object.values(timings).map((timing) => timing.p95_ms));
    const figures = { ...timings, subscribers: options.count, load_s: loadSeconds, samples: options.samples, slowest_p95_ms: slowest, target_met: slowest < TARGET_P95_MS };
    if (options.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else printReport(options, database.server, loadSeconds, timings);
    return 0;
  } finally {
    removeHandlers();
    await server?.stop();
    await database.drop();
  }
}

/** Adds an active superuser with a random password and returns its sign-in. */
async function addStaffAccount(url: string): Promise<{ email: string; password: string }> {
  const email = 'bench-admin@example.com';
  const password = randomBytes(18).toString('base64url');
  const hash = await hashPassword(password, ARGON2_FLOOR);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO users (username, email, password_hash, first_name, is_active, is_staff, is_superuser)
       VALUES ('bench-admin', $1, $2, 'Bench', true, true, true)`,
      [email, hash],
    );
  } finally {
    await client.end();
  }
  return { email, password };
}

/** Signs in through the panel's login form and returns the session cookie. */
async function signIn(url: string, credentials: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${url}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(credentials).toString(),
    redirect: 'manual',
  });

  const cookie = response.headers.getSetCookie().map((header) => header.split(';')[0]).join('; ');
  if (response.status === 404) throw new Error('POST /admin/login returned 404: this build has no admin panel yet, so there is nothing to measure');
  if (response.status !== 302 || !cookie) throw new Error(`Signing in to the admin panel failed: POST /admin/login returned ${response.status} without a session cookie`);
  return cookie;
}

/** Requests `path` once untimed, then `samples` times, and returns the percentiles in milliseconds. */
async function timePage(url: string, path: string, cookie: string, samples: number) {
  const durations: number[] = [];

  for (let index = 0; index <= samples; index++) {
    const startedAt = performance.now();
    const response = await fetch(`${url}${path}`, { headers: { cookie, accept: 'application/json' } });
    const body = await response.text();
    const elapsed = performance.now() - startedAt;

    if (!response.ok) throw new Error(`GET ${path} returned ${response.status}: ${body.slice(0, 200)}`);
    if (index > 0) durations.push(elapsed);
  }

  return { p50_ms: round(percentile(durations, 50)), p95_ms: round(percentile(durations, 95)), max_ms: round(Math.max(...durations)) };
}

function printReport(options: Options, databaseServer: string, loadSeconds: number, timings: Record<string, { p50_ms: number; p95_ms: number; max_ms: number }>) {
  const rows = PAGES.map((page) => {
    const timing = timings[page.name];
    const verdict = timing.p95_ms < TARGET_P95_MS ? 'ok' : `over ${TARGET_P95_MS} ms`;
    return `${page.label.padEnd(42)} p50 ${String(timing.p50_ms).padStart(7)} ms   p95 ${String(timing.p95_ms).padStart(7)} ms   max ${String(timing.max_ms).padStart(7)} ms   ${verdict}`;
  });
  const requests = options.samples === 1 ? 'request' : 'requests';
  const lines = ['', `Machine:   ${describeMachine()}`, `Database:  ${databaseServer}`, `Data:      ${options.count} subscribers loaded in ${loadSeconds} s; ${options.samples} timed ${requests} per page`, '', ...rows, ''];
  if (options.count < 1000 * LIST_PAGE_SIZE) {
    lines.push(`Page 1,000 starts after row ${999 * LIST_PAGE_SIZE}, so with ${options.count} subscribers it timed an empty page.`, '');
  }
  process.stdout.write(lines.join('\n'));
}
