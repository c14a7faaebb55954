import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { QueryTypes, Transaction } from 'sequelize';
import type { AppContext } from './context.ts';
import type { SubscriberSource } from './sources.ts';
import { neutraliseCell } from './spreadsheet-cells.ts';

/** Conditions on the subscribers an export includes: every condition given must hold, and none given means everyone. */
export interface SubscriberFilter {
  sources?: SubscriberSource[];
  processed?: boolean;
  /** Processing gave up on them and they need an operator. */
  needsAttention?: boolean;
  hasUser?: boolean;
  /** Joined at or after this time. */
  createdFrom?: Date;
  /** Joined before this time (exclusive). */
  createdUntil?: Date;
  processedFrom?: Date;
  processedUntil?: Date;
  /** Text found in the email, name, first name or last name, without regard to case; % and _ are literal. */
  search?: string;
}

/** Columns of an export, oldest subscriber first; the first five import back with `waitlist import`. */
export const EXPORT_COLUMNS = ['email', 'name', 'phone_number', 'source', 'created_at', 'processed', 'processed_at'] as const;

// Rows fetched from the cursor per round trip.
const FETCH_SIZE = 1000;

interface ExportRow {
  email: string;
  name: string | null;
  phone_number: string | null;
  source: string;
  created_at: Date;
  is_processed: boolean;
  processed_at: Date | null;
}

/**
 * Writes the subscribers that match `filter` to `output` as CSV with a header row, oldest first, and returns
 * how many it wrote. Rows come from a cursor in one read-only snapshot, so memory stays flat and a
 * signup during the export neither appears half-way nor shifts rows. Cells a spreadsheet would run as a
 * formula are neutralised. `output` is ended unless `endOutput` is false (for standard output).
 */
export async function exportSubscribers(context: AppContext, filter: SubscriberFilter, output: Writable, endOutput = true): Promise<number> {
  const { sql, bind } = filterSql(filter);
  const sequelize = context.database.sequelize;
  let count = 0;

  await sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.REPEATABLE_READ, readOnly: true }, async (transaction) => {
    await sequelize.query(
      `DECLARE subscriber_export NO SCROLL CURSOR FOR
       SELECT email, name, phone_number, source, created_at, is_processed, processed_at
       FROM waitlist_subscribers ${sql}
       ORDER BY created_at, id`,
      { bind, transaction },
    );

    async function* rows() {
      for (;;) {
        const batch = await sequelize.query<ExportRow>(`FETCH ${FETCH_SIZE} FROM subscriber_export`, { type: QueryTypes.SELECT, transaction });
        for (const row of batch) {
          count += 1;
          yield toCells(row);
        }
        if (batch.length < FETCH_SIZE) return;
      }
    }

    const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS] });
    await pipeline(Readable.from(rows()), csv, output, { end: endOutput });
  });

  return count;
}

function toCells(row: ExportRow): string[] {
  const cells = [
    row.email,
    row.name ?? '',
    row.phone_number ?? '',
    row.source,
    row.created_at.toISOString(),
    row.is_processed ? 'true' : 'false',
    row.processed_at?.toISOString() ?? '',
  ];
  return cells.map(neutraliseCell);
}

/** Builds the WHERE clause and its bind parameters for a filter. */
export function filterSql(filter: SubscriberFilter): { sql: string; bind: unknown[] } {
  const conditions: string[] = [];
  const bind: unknown[] = [];
  const parameter = (value: unknown) => {
    bind.push(value);
    return `$${bind.length}`;
  };

  if (filter.sources?.length) conditions.push(`source = ANY(${parameter(filter.sources)}::text[])`);
  if (filter.processed !== undefined) conditions.push(`is_processed = ${parameter(filter.processed)}`);
  if (filter.needsAttention !== undefined) conditions.push(filter.needsAttention ? 'gave_up_at IS NOT NULL' : 'gave_up_at IS NULL');
  if (filter.hasUser !== undefined) conditions.push(filter.hasUser ? 'user_id IS NOT NULL' : 'user_id IS NULL');
  if (filter.createdFrom) conditions.push(`created_at >= ${parameter(filter.createdFrom)}`);
  if (filter.createdUntil) conditions.push(`created_at < ${parameter(filter.createdUntil)}`);
  if (filter.processedFrom) conditions.push(`processed_at >= ${parameter(filter.processedFrom)}`);
  if (filter.processedUntil) conditions.push(`processed_at < ${parameter(filter.processedUntil)}`);

  const search = filter.search?.trim();
  if (search) {
    const pattern = parameter(`%${search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`);
    conditions.push(`(email ILIKE ${pattern} OR name ILIKE ${pattern} OR first_name ILIKE ${pattern} OR last_name ILIKE ${pattern})`);
  }

  return { sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', bind };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Reads the bounds of a date range as people write them: `from` is the start of its day or the exact time,
 * and `to` includes its whole day (2026-01-31 means until 2026-02-01T00:00Z) or the exact time given.
 * Dates without a zone are UTC. Returns undefined for text that is not an ISO 8601 date or date and time.
 */
export function parseRangeBound(text: string, bound: 'from' | 'to'): Date | undefined {
  const value = text.trim();
  const dateOnly = DATE_ONLY.test(value);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const time = Date.parse(dateOnly || hasZone ? value : `${value}Z`);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time)) return undefined;

  if (bound === 'from') return new Date(time);
  return new Date(dateOnly ? time + DAY_MS : time + 1);
}
