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

async function countSubscribers(context: AppContext) {
  const [row] = await context.database.sequelize.query<Record<string, string>>(
    `SELECT
       count(*) FILTER (WHERE NOT is_processed AND gave_up_at IS NULL) AS pending,
       count(*) FILTER (WHERE is_processed) AS processed,
       count(*) FILTER (WHERE NOT is_processed AND gave_up_at IS NOT NULL) AS needs_attention,
       (SELECT count(*) FROM email_deliveries WHERE kind = 'welcome' AND status = 'accepted') AS users_created
     FROM waitlist_subscribers`,
    { type: QueryTypes.SELECT },
  );
  return { pending: Number(row.pending), processed: Number(row.processed), needsAttention: Number(row.needs_attention), usersCreated: Number(row.users_created) };
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
