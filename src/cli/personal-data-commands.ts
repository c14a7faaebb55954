import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { AppContext } from '../context.ts';
import { assertMigrated } from '../database/migrator.ts';
import { deletePersonalData, exportPersonalData, PersonalDataError, type PersonSelector } from '../personal-data.ts';
import { EXIT_USAGE, withContext } from './bootstrap.ts';

interface SelectorOptions {
  id?: boolean;
}

/** `waitlist personal-data export|delete`: handles data-protection requests for one person. */
export function personalDataCommand(): Command {
  const command = new Command('personal-data').description('Export or delete everything stored about one person, for data-protection requests.');

  command
    .command('export')
    .description('Write everything stored about a person as JSON: subscriber rows, account (without password hash) and email deliveries.')
    .argument('<email-or-id>', 'the email address (any case), or with --id the subscriber id')
    .option('--id', 'the argument is a subscriber id, not an email address')
    .option('-o, --output <file>', 'file to write (default: standard output)')
    .action(async (emailOrId: string, options: SelectorOptions & { output?: string }) => {
      process.exitCode = await withContext((context) => runExport(context, selectorFor(emailOrId, options), options.output), undefined, process.stderr);
    });

  command
    .command('delete')
    .description('Delete a person\'s subscriber row and its email deliveries, and with --with-account their account and its deliveries too.')
    .argument('<email-or-id>', 'the email address (any case), or with --id the subscriber id')
    .option('--id', 'the argument is a subscriber id, not an email address')
    .option('--with-account', 'also delete the linked account and every delivery to it (never a staff account)')
    .option('--yes', 'delete without asking again; without it the command only says what it would delete')
    .action(async (emailOrId: string, options: SelectorOptions & { withAccount?: boolean; yes?: boolean }) => {
      process.exitCode = await withContext((context) => runDelete(context, selectorFor(emailOrId, options), options));
    });

  // main.ts sets these on top-level commands only; the subcommands need them for usage errors to exit with 2.
  for (const subcommand of command.commands) {
    subcommand.showHelpAfterError('(run with --help for usage)').exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    });
  }
  return command;
}

function selectorFor(emailOrId: string, options: SelectorOptions): PersonSelector {
  return options.id ? { subscriberId: emailOrId.trim() } : { email: emailOrId };
}

async function runExport(context: AppContext, selector: PersonSelector, output: string | undefined): Promise<number> {
  await assertMigrated(context.database.sequelize, context.logger);

  const report = await explained(() => exportPersonalData(context, selector));
  if (!report) return 1;

  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (output) {
    await writeFile(output, json, { mode: 0o600 });
    process.stderr.write(`Wrote the personal data to ${output}.\n`);
  } else {
    process.stdout.write(json);
  }
  return 0;
}

async function runDelete(context: AppContext, selector: PersonSelector, options: { withAccount?: boolean; yes?: boolean }): Promise<number> {
  await assertMigrated(context.database.sequelize, context.logger);

  const summary = await explained(() => deletePersonalData(context, selector, { withAccount: options.withAccount, dryRun: !options.yes }));
  if (!summary) return 1;

  const counts = `${summary.subscriberIds.length} subscriber row(s), ${summary.deliveries} email deliveries and ${summary.deletedUserIds.length} account(s)`;
  const kept = summary.keptUserIds.length > 0 ? ` Account ${summary.keptUserIds.join(', ')} stays: add --with-account to delete it too.` : '';
  if (!options.yes) {
    process.stdout.write(`Would delete ${counts}.${kept}\nNothing was deleted: run again with --yes to delete.\n`);
    return EXIT_USAGE;
  }
  process.stdout.write(`Deleted ${counts}.${kept}\n`);
  return 0;
}

/** Runs `work`, printing a PersonalDataError's message instead of a stack trace. */
async function explained<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof PersonalDataError)) throw error;
    process.stderr.write(`waitlist personal-data: ${error.message}\n`);
    return undefined;
  }
}
