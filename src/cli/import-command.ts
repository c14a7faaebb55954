import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { stringify, type Stringifier } from 'csv-stringify';
import type { CountryCode } from 'libphonenumber-js';
import type { AppContext } from '../context.ts';
import { assertMigrated } from '../database/migrator.ts';
import { neutraliseCell } from '../spreadsheet-cells.ts';
import { parsePhoneCountry } from '../subscriber-input.ts';
import { DEFAULT_IMPORT_BATCH_SIZE, ImportFileError, importSubscribers, type ImportProgress, type ImportSummary, type InvalidRow } from '../subscriber-import.ts';
import { withContext } from './bootstrap.ts';
import { wholeNumber } from './options.ts';

interface ImportCommandOptions {
  dryRun?: boolean;
  report?: string;
  phoneCountry?: CountryCode;
  batchSize?: number;
}

/** `waitlist import <file.csv>`: adds subscribers from a CSV file, with a progress bar and a report of invalid rows. */
export function importCommand(): Command {
  return new Command('import')
    .description('Add subscribers from a CSV file with a header row (email required; name, phone_number, source, created_at optional). Addresses already on the list are skipped, never changed.')
    .argument('<file.csv>', 'the CSV file to read')
    .option('--dry-run', 'check every row and count what would be added, without storing anything')
    .option('--report <file>', 'where to write the invalid rows with their line numbers and reasons (default: <file>.invalid-rows.csv beside the input)')
    .option('--phone-country <code>', 'country for phone numbers without a country code, such as GB (default: PHONE_DEFAULT_COUNTRY)', phoneCountryOption)
    .option('--batch-size <n>', `rows per insert (default: ${DEFAULT_IMPORT_BATCH_SIZE})`, wholeNumber('--batch-size', 1, 10000))
    .action(async (file: string, options: ImportCommandOptions) => {
      process.exitCode = await withContext((context) => runImport(context, file, options));
    });
}

function phoneCountryOption(value: string): CountryCode {
  const parsed = parsePhoneCountry(value);
  if (!parsed.ok || !parsed.value) throw new InvalidArgumentError(parsed.ok ? 'give a two-letter country code, such as GB' : parsed.reason);
  return parsed.value;
}

async function runImport(context: AppContext, file: string, options: ImportCommandOptions): Promise<number> {
  const size = fileSize(file);
  if (size === undefined) return 1;
  await assertMigrated(context.database.sequelize, context.logger);

  const reportPath = options.report ?? defaultReportPath(file);
  const report = new InvalidRowReport(reportPath);
  const bar = process.stderr.isTTY ? startProgressBar(size) : undefined;

  let summary: ImportSummary;
  try {
    summary = await importSubscribers(context, createReadStream(file), {
      dryRun: options.dryRun,
      batchSize: options.batchSize,
      phoneCountry: options.phoneCountry ?? context.config.subscriberInput.phoneCountry,
      onHeader: (header) => report.setHeader(header),
      onInvalidRow: (row) => report.write(row),
      onProgress: (progress) => bar?.update(progress.bytes, progressFields(progress)),
    });
  } catch (error) {
    bar?.stop();
    await report.close();
    if (!(error instanceof ImportFileError)) throw error;
    process.stderr.write(`waitlist import: ${file}: ${error.message}\n`);
    return 1;
  }

  bar?.update(size, progressFields(summary));
  bar?.stop();
  await report.close();
  printSummary(file, summary, report.written > 0 ? reportPath : undefined);
  context.logger.info({ file: path.basename(file), ...countsOf(summary) }, summary.dryRun ? 'import dry run finished' : 'import finished');
  return 0;
}

function fileSize(file: string): number | undefined {
  try {
    const stats = statSync(file);
    if (stats.isFile()) return stats.size;
    process.stderr.write(`waitlist import: ${file} is not a file; give the path of a CSV file.\n`);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    process.stderr.write(`waitlist import: cannot read ${file}: ${reason}.\n`);
  }
  return undefined;
}

function defaultReportPath(file: string): string {
  const extension = path.extname(file);
  return path.join(path.dirname(file), `${path.basename(file, extension)}.invalid-rows.csv`);
}

function startProgressBar(totalBytes: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: 'Importing |{bar}| {percentage}% | {rows} rows: {added} added, {duplicates} duplicates, {invalid} invalid',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      barCompleteChar: '#',
      barIncompleteChar: '.',
    },
  );
  bar.start(Math.max(totalBytes, 1), 0, { rows: 0, added: 0, duplicates: 0, invalid: 0 });
  return bar;
}

const progressFields = (progress: ImportProgress) => ({ rows: progress.rows, added: progress.added, duplicates: progress.duplicates, invalid: progress.invalid });

const countsOf = (summary: ImportSummary) => ({ ...progressFields(summary), unknownColumns: summary.unknownColumns });

function printSummary(file: string, summary: ImportSummary, reportPath: string | undefined) {
  const lines: string[] = [];
  if (summary.unknownColumns.length > 0) lines.push(`Ignored unknown column(s): ${summary.unknownColumns.join(', ')}.`);

  const verb = summary.dryRun ? 'would be added' : 'added';
  lines.push(`${summary.dryRun ? 'Dry run of' : 'Imported'} ${file}: ${summary.rows} rows, ${summary.added} ${verb}, ${summary.duplicates} duplicates skipped, ${summary.invalid} invalid.`);
  if (reportPath) lines.push(`Invalid rows, with line numbers and reasons: ${reportPath}`);
  if (summary.dryRun) lines.push('Nothing was stored: run again without --dry-run to import.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The report of invalid rows: line, reasons, then every column of the input as read (neutralised for
 * spreadsheets), so a person can fix the rows and import the report itself. Created at the first invalid row.
 */
class InvalidRowReport {
  written = 0;
  private csv?: Stringifier;
  private file?: WriteStream;
  private header: string[] = [];

  constructor(private readonly reportPath: string) {}

  async write(row: InvalidRow) {
    if (!this.csv) this.open();
    this.written += 1;

    const reasons = Object.entries(row.reasons).map(([field, reason]) => `${field}: ${reason}`).join(' ');
    const cells = [String(row.line), reasons, ...this.header.map((name) => row.cells[name] ?? '')];
    if (!this.csv!.write(cells.map(neutraliseCell))) await once(this.csv!, 'drain');
  }

  async close() {
    if (!this.csv) return;
    this.csv.end();
    await once(this.file!, 'close');
  }

  setHeader(header: string[]) {
    this.header = header;
  }

  private open() {
    this.file = createWriteStream(this.reportPath);
    this.csv = stringify({ header: true, columns: ['line', 'reasons', ...this.header] });
    this.csv.pipe(this.file);
  }
}
