import { Op, QueryTypes } from 'sequelize';
import type { AppContext } from '../src/context.ts';
import { readPauseState } from '../src/processing-pause.ts';
import { SOURCE_LABELS, SUBSCRIBER_SOURCES } from '../src/sources.ts';

/** Days the dashboard charts cover, ending today (UTC). */
export const CHART_DAYS = 30;

/** Reads what the dashboard shows: counts, daily series for the charts, the last and next run, and the pause switch. */
export async function loadDashboard(context: AppContext) {
  const days = chartDays(context.now());
  const since = new Date(`${days[0]}T00:00:00Z`);

  const [counts, signupsByDay, accountsByDay, lastRun, pause] = await Promise.all([
    countSubscribers(context),
    dailyCounts(context, 'SELECT created_at AS at, source FROM waitlist_subscribers WHERE created_at >= :since', since),
    dailyCounts(context, "SELECT created_at AS at, 'accounts' AS source FROM email_deliveries WHERE kind = 'welcome' AND status = 'accepted' AND created_at >= :since", since),
    context.models.ProcessorRun.findOne({ where: { finished_at: { [Op.ne]: null } }, order: [['started_at', 'DESC'], ['id', 'DESC']] }),
    readPauseState(context),
  ]);

  return {
    counts,
    days,
    signupsByDay,
    accountsByDay,
    sources: SUBSCRIBER_SOURCES.map((value) => ({ value, label: SOURCE_LABELS[value] })),
    lastRun: lastRun && {
      startedAt: lastRun.started_at,
      trigger: lastRun.trigger,
      processed: lastRun.processed,
      existing: lastRun.existing,
      failed: lastRun.failed,
      durationMs: lastRun.duration_ms,
    },
    nextRun: await nextRun(context, pause.paused),
    pause,
  };
}

/** Table and condition of each of the dashboard's four counts. */
const COUNTED = {
  pending: { table: 'waitlist_subscribers', where: 'NOT is_processed AND gave_up_at IS NULL' },
  processed: { table: 'waitlist_subscribers', where: 'is_processed' },
  needsAttention: { table: 'waitlist_subscribers', where: 'NOT is_processed AND gave_up_at IS NOT NULL' },
  usersCreated: { table: 'email_deliveries', where: "kind = 'welcome' AND status = 'accepted'" },
} as const;

type CountName = keyof typeof COUNTED;

/**
 * Counts subscribers by state: exactly up to ADMIN_EXACT_COUNT_LIMIT rows, and as PostgreSQL's estimates above
 * it, because an exact count reads every row. Needs attention stays exact, since operators act on it and its
 * partial index keeps it fast.
 */
async function countSubscribers(context: AppContext) {
  const total = await estimateRows(context, 'SELECT 1 FROM waitlist_subscribers');
  const estimated = total > context.config.admin.exactCountLimit;

  const count = (name: CountName) => (estimated && name !== 'needsAttention' ? estimateCount(context, name) : exactCount(context, name));
  const [pending, processed, needsAttention, usersCreated] = await Promise.all([count('pending'), count('processed'), count('needsAttention'), count('usersCreated')]);

  return { pending, processed, needsAttention, usersCreated, estimated };
}

async function exactCount(context: AppContext, name: CountName): Promise<number> {
  const { table, where } = COUNTED[name];
  const [row] = await context.database.sequelize.query<{ count: string }>(`SELECT count(*) AS count FROM ${table} WHERE ${where}`, { type: QueryTypes.SELECT });
  return Number(row.count);
}

function estimateCount(context: AppContext, name: CountName): Promise<number> {
  const { table, where } = COUNTED[name];
  return estimateRows(context, `SELECT 1 FROM ${table} WHERE ${where}`);
}

/** Returns the planner's row estimate for `select`, from the table statistics that autovacuum keeps. */
async function estimateRows(context: AppContext, select: string): Promise<number> {
  const [row] = await context.database.sequelize.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(`EXPLAIN (FORMAT JSON) ${select}`, {
    type: QueryTypes.SELECT,
  });
  return Math.round(row['QUERY PLAN'][0].Plan['Plan Rows']);
}

/** Counts rows of `rowsSql` (columns `at` and `source`) per UTC day and source. */
async function dailyCounts(context: AppContext, rowsSql: string, since: Date) {
  const rows = await context.database.sequelize.query<{ day: string; source: string; count: string }>(
    `SELECT to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, source, count(*) AS count
     FROM (${rowsSql}) AS counted GROUP BY 1, 2 ORDER BY 1, 2`,
    { replacements: { since }, type: QueryTypes.SELECT },
  );
  return rows.map((row) => ({ day: row.day, source: row.source, count: Number(row.count) }));
}

/**
 * Estimates the next scheduled run from the last scheduled or worker run and PROCESSOR_INTERVAL_SECONDS.
 * Standalone workers may use their own --interval, which this page cannot know.
 */
async function nextRun(context: AppContext, paused: boolean): Promise<{ at: Date | null; note: string }> {
  if (paused) return { at: null, note: 'none while processing is paused' };

  const last = await context.models.ProcessorRun.findOne({ where: { trigger: { [Op.in]: ['schedule', 'command'] } }, order: [['started_at', 'DESC']] });
  if (!last) {
    const note = context.config.processor.enabled ? 'at the next start of the scheduler' : 'no schedule in this process (PROCESSOR_ENABLED=false): runs come from workers';
    return { at: null, note };
  }

  const at = new Date(last.started_at.getTime() + context.config.processor.intervalSeconds * 1000);
  if (at < context.now()) return { at: null, note: 'due now (no scheduler or worker has run since)' };
  return { at, note: '' };
}

function chartDays(now: Date): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: CHART_DAYS }, (_, index) => new Date(today - (CHART_DAYS - 1 - index) * 86400000).toISOString().slice(0, 10));
}
