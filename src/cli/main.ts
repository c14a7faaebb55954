import { Command } from 'commander';
import { EXIT_USAGE } from './bootstrap.ts';
import { createAdminCommand } from './create-admin-command.ts';
import { exportCommand } from './export-command.ts';
import { importCommand } from './import-command.ts';
import { migrateCommand, seedCommand } from './maintenance-commands.ts';
import { personalDataCommand } from './personal-data-commands.ts';
import { processCommand } from './process-command.ts';
import { serveCommand } from './serve-command.ts';

const program = new Command('waitlist')
  .description('Turn a waitlist into user accounts: web app, batch processor and maintenance commands.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  })
  .addCommand(serveCommand())
  .addCommand(processCommand())
  .addCommand(migrateCommand())
  .addCommand(seedCommand())
  .addCommand(importCommand())
  .addCommand(exportCommand())
  .addCommand(personalDataCommand())
  .addCommand(createAdminCommand());

for (const command of program.commands) {
  command.showHelpAfterError('(run with --help for usage)').exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  });
}

await program.parseAsync(process.argv);
