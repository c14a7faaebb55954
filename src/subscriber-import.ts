import type { Readable } from 'node:stream';
import { parse, type CsvError, type Info } from 'csv-parse';
import { QueryTypes, type Transaction } from 'sequelize';
import { addSubscribers, type NewSubscriber } from './add-subscriber.ts';
import type { AppContext } from './context.ts';
import { restoreCell } from './spreadsheet-cells.ts';
import { parseSignupTime, parseSubscriberInput, type FieldErrors, type InputOptions } from './subscriber-input.ts';

/** Columns the importer reads; `email` is required, the others may be missing. Any other column is reported and ignored. */
export const IMPORT_COLUMNS = ['email', 'name', 'phone_number', 'source', 'created_at'] as const;

/** Rows per INSERT statement: large enough to amortise the round trip, small enough to keep memory flat. */
export const DEFAULT_IMPORT_BATCH_SIZE = 1000;

// A record larger than this is rejected (as an invalid row) instead of being buffered, which also bounds
// the memory an unclosed quote can take.
const MAX_RECORD_BYTES = 64 * 1024;

export interface ImportOptions extends InputOptions {
  /** Count what would happen and store nothing. */
  dryRun?: boolean;
  batchSize?: number;
  /** Called with the header as written in the file, before any row. */
  onHeader?: (header: string[]) => void;
  /** Called once per invalid row, in file order; awaited, so a slow report file slows the reading down. */
  onInvalidRow?: (row: InvalidRow) => void | Promise<void>;
  /** Called after each batch and at the end. */
  onProgress?: (progress: ImportProgress) => void;
}

/** A row that breaks the rules: its line in the file, a reason per field, and its cells as read. */
export interface InvalidRow {
  line: number;
  reasons: FieldErrors;
  /** Cells by header name, after removing the apostrophe an export added; all columns, known or not. */
  cells: Record<string, string>;
}

export interface ImportProgress {
  /** Bytes of the file parsed so far. */
  bytes: number;
  rows: number;
  added: number;
  duplicates: number;
  invalid: number;
}

export interface ImportSummary extends ImportProgress {
  /** The header as written in the file, for a report that keeps every column. */
  header: string[];
  unknownColumns: string[];
  dryRun: boolean;
}

/** The file as a whole cannot be imported: no header, no email column, or the same column twice. */
export class ImportFileError extends Error {
  readonly code = 'invalid_import_file';

  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

interface ParsedRecord {
  record: string[];
  info: Info;
}

/**
 * Reads subscribers from CSV with a header row and adds those not on the list yet, in batches, streaming:
 * memory stays flat whatever the file's size. Each row goes through the same rules as the signup API.
 * Addresses already on the list (or earlier in the file) are counted as duplicates and never changed;
 * `created_at` from the file is kept. Batches commit one by one, so an interrupted import can be run
 * again and only adds the rows that are missing. With `dryRun`, nothing is stored and the counts are the same.
 */
export async function importSubscribers(context: AppContext, input: Readable, options: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? DEFAULT_IMPORT_BATCH_SIZE;
  const skipped: InvalidRow[] = [];
  const parser = input.pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_BYTES,
      skip_records_with_error: true,
      on_skip: (error) => {
        skipped.push(unreadableRow(error));
        return undefined;
      },
    }),
  );
  input.on('error', (error) => parser.destroy(error));

  const sink = await openSink(context, options.dryRun === true);
  try {
    const summary = await readRows(context, parser as AsyncIterable<ParsedRecord>, sink, skipped, { ...options, batchSize });
    await sink.finish();
    return summary;
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

async function readRows(
  context: AppContext,
  records: AsyncIterable<ParsedRecord>,
  sink: Sink,
  skipped: InvalidRow[],
  options: ImportOptions & { batchSize: number },
): Promise<ImportSummary> {
  const progress: ImportProgress = { bytes: 0, rows: 0, added: 0, duplicates: 0, invalid: 0 };
  const now = context.now();
  let columns: ColumnMap | undefined;
  let batch: NewSubscriber[] = [];
  // csv-parse reports the line a record ends on; a quoted value with line breaks starts earlier.
  let previous = { lines: 0, emptyLines: 0 };

  const reportInvalid = async (row: InvalidRow) => {
    progress.invalid += 1;
    await options.onInvalidRow?.(row);
  };
  const flush = async () => {
    const added = await sink.insert(batch);
    progress.added += added;
    progress.duplicates += batch.length - added;
    batch = [];
    options.onProgress?.({ ...progress });
  };

  for await (const { record, info } of records) {
    progress.bytes = info.bytes;
    const line = previous.lines + 1 + (info.empty_lines - previous.emptyLines);
    previous = { lines: info.lines, emptyLines: info.empty_lines };
    for (const row of skipped.splice(0)) {
      progress.rows += 1;
      await reportInvalid(row);
    }

    if (!columns) {
      columns = readHeader(record);
      options.onHeader?.(columns.header);
      continue;
    }

    progress.rows += 1;
    const result = readRow(columns, record, line, now, options);
    if ('reasons' in result) await reportInvalid(result);
    else batch.push(result);

    if (batch.length >= options.batchSize) await flush();
  }

  for (const row of skipped.splice(0)) {
    progress.rows += 1;
    await reportInvalid(row);
  }
  if (!columns) throw new ImportFileError('The file is empty: the first line must be a header such as "email,name,phone_number,source,created_at".');
  await flush();

  return { ...progress, header: columns.header, unknownColumns: columns.unknown, dryRun: options.dryRun === true };
}

interface ColumnMap {
  header: string[];
  /** Position of each known column in a record. */
  positions: Partial<Record<(typeof IMPORT_COLUMNS)[number], number>>;
  unknown: string[];
}

function readHeader(record: string[]): ColumnMap {
  const header = record.map((name) => name.trim());
  const keys = header.map((name) => name.toLowerCase());
  const positions: ColumnMap['positions'] = {};
  const unknown: string[] = [];

  keys.forEach((key, index) => {
    const known = (IMPORT_COLUMNS as readonly string[]).includes(key) ? (key as (typeof IMPORT_COLUMNS)[number]) : undefined;
    if (!known) {
      unknown.push(header[index] || `(empty name, column ${index + 1})`);
      return;
    }
    if (positions[known] !== undefined) throw new ImportFileError(`The header has the column "${known}" twice; keep one.`);
    positions[known] = index;
  });

  if (positions.email === undefined) {
    throw new ImportFileError(
      `The header has no "email" column; the first line must name the columns, such as "email,name,phone_number,source,created_at" (found: ${header.join(', ') || 'nothing'}).`,
    );
  }
  return { header, positions, unknown };
}

function readRow(columns: ColumnMap, record: string[], line: number, now: Date, options: InputOptions): NewSubscriber | InvalidRow {
  const cells = Object.fromEntries(columns.header.map((name, index) => [name, restoreCell(record[index] ?? '')]));
  if (record.length !== columns.header.length) {
    const reason = `The row has ${record.length} fields but the header has ${columns.header.length}; check for a comma in an unquoted value.`;
    return { line, reasons: { row: reason }, cells };
  }

  const cell = (column: (typeof IMPORT_COLUMNS)[number]) => {
    const position = columns.positions[column];
    return position === undefined ? undefined : restoreCell(record[position]);
  };
  const parsed = parseSubscriberInput({ email: cell('email'), name: cell('name'), phone_number: cell('phone_number'), source: cell('source') }, options);
  const joined = parseSignupTime(cell('created_at'), now);

  const reasons: FieldErrors = parsed.ok ? {} : { ...parsed.errors };
  if (!joined.ok) reasons.created_at = joined.reason;
  if (!parsed.ok || !joined.ok) return { line, reasons, cells };

  return { ...parsed.value, created_at: joined.value ?? now };
}

function unreadableRow(error: CsvError | undefined): InvalidRow {
  const line = Number((error as { lines?: number } | undefined)?.lines ?? 0);
  const message = error?.code === 'CSV_MAX_RECORD_SIZE' ? `The row is longer than ${MAX_RECORD_BYTES} bytes; check for an unclosed quote.` : `The row is not valid CSV: ${error?.message ?? 'unknown reason'}.`;
  return { line, reasons: { row: message }, cells: {} };
}

/** Destination of valid rows: the table, or for a dry run a temporary table of the addresses it would add. */
interface Sink {
  insert(batch: NewSubscriber[]): Promise<number>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

async function openSink(context: AppContext, dryRun: boolean): Promise<Sink> {
  if (!dryRun) {
    return { insert: (batch) => addSubscribers(context, batch), finish: async () => undefined, abort: async () => undefined };
  }

  // The dry run holds no lock on waitlist_subscribers: it reads it and writes only to its own temporary table.
  const transaction = await context.database.sequelize.transaction();
  await context.database.sequelize.query('CREATE TEMPORARY TABLE import_dry_run (email_key text PRIMARY KEY) ON COMMIT DROP', { transaction });
  return {
    insert: (batch) => countNewAddresses(context, batch, transaction),
    finish: () => transaction.rollback(),
    abort: () => transaction.rollback().catch(() => undefined),
  };
}

async function countNewAddresses(context: AppContext, batch: NewSubscriber[], transaction: Transaction): Promise<number> {
  if (batch.length === 0) return 0;
  const rows = await context.database.sequelize.query(
    `INSERT INTO import_dry_run (email_key)
     SELECT lower(incoming.address) FROM unnest($1::text[]) AS incoming (address)
     WHERE NOT EXISTS (SELECT 1 FROM waitlist_subscribers AS existing WHERE lower(existing.email) = lower(incoming.address))
     ON CONFLICT DO NOTHING
     RETURNING 1`,
    { bind: [batch.map((subscriber) => subscriber.email)], type: QueryTypes.SELECT, transaction },
  );
  return rows.length;
}
