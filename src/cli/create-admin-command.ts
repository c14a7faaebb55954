import { Command, InvalidArgumentError } from 'commander';
import type { AppContext } from '../context.ts';
import { assertMigrated } from '../database/migrator.ts';
import { createOrPromoteStaff, StaffInputError } from '../staff-accounts.ts';
import { EXIT_USAGE, withContext } from './bootstrap.ts';

interface CreateAdminOptions {
  email: string;
  superuser: boolean;
}

/** `waitlist create-admin`: creates or promotes a staff account for the admin panel. */
export function createAdminCommand(): Command {
  return new Command('create-admin')
    .description(
      'Create a staff account for the admin panel, or make an existing account staff. The password is read from standard input when it is not a terminal; otherwise a new account gets a generated password, shown once.',
    )
    .requiredOption('--email <address>', 'email address of the account, such as ops@example.com', emailAddress)
    .option('--no-superuser', 'staff without superuser rights (superusers can delete records and change staff flags)')
    .action(async (options: CreateAdminOptions) => {
      process.exitCode = await withContext((context) => runCreateAdmin(context, options));
    });
}

async function runCreateAdmin(context: AppContext, options: CreateAdminOptions): Promise<number> {
  await assertMigrated(context.database.sequelize, context.logger);
  const password = process.stdin.isTTY ? undefined : await readPassword();

  let result;
  try {
    result = await createOrPromoteStaff(context, { email: options.email, password, superuser: options.superuser });
  } catch (error) {
    if (!(error instanceof StaffInputError)) throw error;
    process.stderr.write(`waitlist create-admin: ${error.message} Pipe a longer password in, or run the command in a terminal to get a generated one.\n`);
    return EXIT_USAGE;
  }

  const { user } = result;
  const role = options.superuser ? 'superuser' : 'staff';
  context.logger.info({ userId: user.id, role, created: result.created }, result.created ? 'staff account created' : 'account made staff');

  // Written to the terminal only, never through the logger, so the password stays out of the log file.
  process.stdout.write(`${result.created ? 'Created' : 'Updated'} ${role} account ${user.username} <${user.email}>.\n`);
  if (result.generatedPassword) process.stdout.write(`Password (shown once): ${result.generatedPassword}\n`);
  else if (!result.passwordChanged) process.stdout.write('Its password is unchanged.\n');
  return 0;
}

/** Reads the whole of standard input and drops one trailing line break, so `echo secret | waitlist create-admin` works. */
async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function emailAddress(value: string): string {
  const trimmed = value.trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed)) {
    throw new InvalidArgumentError(`--email takes an email address such as ops@example.com; got "${value}".`);
  }
  return trimmed;
}
