import { createWriteStream } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AppContext } from '../context.ts';
import { assertMigrated } from '../database/migrator.ts';
import type { SubscriberSource } from '../sources.ts';
import { exportSubscribers, parseRangeBound, type SubscriberFilter } from '../subscriber-export.ts';
import { normaliseSource } from '../subscriber-input.ts';
import { withContext } from './bootstrap.ts';

interface ExportCommandOptions {
  output?: string;
  source?: SubscriberSource[];
  processed?: boolean;
  unprocessed?: boolean;
  needsAttention?: boolean;
  createdFrom?: Date;
  createdTo?: Date;
  search?: string;
}

/** `waitlist export`: writes subscribers as CSV, oldest first, with filters as options. */
export function exportCommand(): Command {
  return new Command('export')
    .description('Write subscribers as CSV (email, name, phone_number, source, created_at, processed, processed_at), oldest first. Cells that a spreadsheet would run as a formula start with an apostrophe.')
    .option('-o, --output <file>', 'file to write (default: standard output)')
    .option('--source <source...>', 'only these sources, such as referral newsletter', collectSources, undefined)
    .addOption(new Option('--processed', 'only subscribers whose account exists').conflicts('unprocessed'))
    .option('--unprocessed', 'only subscribers still waiting for an account')
    .option('--needs-attention', 'only subscribers whose processing gave up')
    .option('--created-from <date>', 'joined on or after this date or time, such as 2026-01-01 (UTC unless a zone is given)', (value) => rangeBound(value, 'from'))
    .option('--created-to <date>', 'joined on or before this date (the whole day) or time', (value) => rangeBound(value, 'to'))
    .option('--search <text>', 'text in the email or name, without regard to case')
    .action(async (options: ExportCommandOptions) => {
      process.exitCode = await withContext((context) => runExport(context, options), undefined, process.stderr);
    });
}

function collectSources(value: string, previous: SubscriberSource[] | undefined): SubscriberSource[] {
  const sources = value.split(',').map((entry) => {
    const parsed = normaliseSource(entry);
    if (!parsed.ok || entry.trim() === '') throw new InvalidArgumentError(parsed.ok ? 'give a source name' : parsed.reason);
    return parsed.value;
  });
  return [...(previous ?? []), ...sources];
}

function rangeBound(value: string, bound: 'from' | 'to'): Date {
  const date = parseRangeBound(value, bound);
  if (!date) throw new InvalidArgumentError(`expected a date such as 2026-01-31 or a time such as 2026-01-31T14:05:00Z; got "${value}".`);
  return date;
}

async function runExport(context: AppContext, options: ExportCommandOptions): Promise<number> {
  await assertMigrated(context.database.sequelize, context.logger);

  let processed: boolean | undefined;
  if (options.processed) processed = true;
  if (options.unprocessed) processed = false;

  const filter: SubscriberFilter = {
    sources: options.source,
    processed,
    needsAttention: options.needsAttention ? true : undefined,
    createdFrom: options.createdFrom,
    createdUntil: options.createdTo,
    search: options.search,
  };

  if (!options.output) {
    const count = await exportSubscribers(context, filter, process.stdout, false);
    context.logger.info({ count }, 'export finished');
    return 0;
  }

  const count = await exportSubscribers(context, filter, createWriteStream(options.output));
  process.stderr.write(`Exported ${count} subscriber(s) to ${options.output}.\n`);
  context.logger.info({ count }, 'export finished');
  return 0;
}
