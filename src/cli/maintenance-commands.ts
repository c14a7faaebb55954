import { Command } from 'commander';
import { assertMigrated, migrate } from '../database/migrator.ts';
import { seedTestSubscribers } from '../../seeders/test-subscribers.ts';
import { withContext } from './bootstrap.ts';

/** `waitlist migrate`: applies pending migrations. */
export function migrateCommand(): Command {
  return new Command('migrate').description('Apply pending database migrations (safe to run again).').action(async () => {
    process.exitCode = await withContext(async (context) => {
      const applied = await migrate(context.database.sequelize, context.logger);
      process.stdout.write(applied.length > 0 ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'The database is up to date.\n');
    });
  });
}

/** `waitlist seed`: adds five test subscribers. */
export function seedCommand(): Command {
  return new Command('seed').description('Add 5 test subscribers with varied names, phones and sources (running it again adds none).').action(async () => {
    process.exitCode = await withContext(async (context) => {
      await assertMigrated(context.database.sequelize, context.logger);
      const added = await seedTestSubscribers(context.models);
      process.stdout.write(`Added ${added} test subscriber(s).\n`);
    });
  });
}
