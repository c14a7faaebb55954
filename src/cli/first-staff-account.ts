import type { AppContext } from '../context.ts';
import { ensureFirstStaffAccount } from '../staff-accounts.ts';

/**
 * On a start with no active staff account, creates one with a generated password and prints its credentials
 * to the terminal once. They go to standard output only, never through the logger, so they never reach the
 * log file. Production creates none, because its standard output usually ends up in a log service.
 */
export async function announceFirstStaffAccount(context: AppContext, adminUrl: string, output: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (context.config.production) {
    const staff = await context.models.User.count({ where: { is_staff: true, is_active: true } });
    if (staff === 0) context.logger.warn('no active staff account: run "waitlist create-admin --email <address>" to create one for the admin panel');
    return;
  }

  const account = await ensureFirstStaffAccount(context);
  if (!account) return;

  context.logger.info({ username: account.username }, 'first staff account created; its password was printed to the terminal');
  output.write(
    [
      '',
      'No staff account existed, so one was created for the admin panel.',
      `  Sign in at: ${adminUrl}`,
      `  Email:      ${account.email}`,
      `  Password:   ${account.password}`,
      'This password is shown only now. Create your own account with "npx waitlist create-admin --email you@example.com".',
      '',
    ].join('\n') + '\n',
  );
}
