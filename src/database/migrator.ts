import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from '../logger.ts';

export interface MigrationContext {
  context: Sequelize;
}

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** Arbitrary key for the advisory lock that keeps two processes from migrating at once. */
const MIGRATION_LOCK_KEY = 7_301_942;

export class PendingMigrationsError extends Error {
  readonly code = 'pending_migrations';

  constructor(readonly pending: string[]) {
    super(`The database is missing ${pending.length} migration(s) (${pending.join(', ')}). Run "npx waitlist migrate" to apply them.`);
    this.name = 'PendingMigrationsError';
  }
}

function createUmzug(sequelize: Sequelize, logger: Logger) {
  return new Umzug<Sequelize>({
    migrations: {
      glob: ['*.{ts,js}', { cwd: MIGRATIONS_DIR, ignore: ['*.d.ts'] }],
      resolve: ({ name, path: file, context }) => ({
        // Names drop the extension, so the compiled .js files count as the same migrations as the .ts sources.
        name: name.replace(/\.(ts|js)$/, ''),
        up: async () => (await import(pathToFileURL(file!).href)).up({ context }),
        down: async () => (await import(pathToFileURL(file!).href)).down({ context }),
      }),
    },
    context: sequelize,
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: {
      info: (event) => logger.info(migrationFields(event), 'migration'),
      warn: (event) => logger.warn(migrationFields(event), 'migration'),
      error: (event) => logger.error(migrationFields(event), 'migration'),
      debug: (event) => logger.debug(migrationFields(event), 'migration'),
    },
  });
}

/** Renames umzug's `name` field, which log formatters would take for the logger's own name. */
function migrationFields(event: Record<string, unknown>) {
  const { name, ...rest } = event;
  return { ...rest, migration: name };
}

/** Applies every pending migration; a second call, or a call from a second process, applies none. */
export async function migrate(sequelize: Sequelize, logger: Logger): Promise<string[]> {
  return withMigrationLock(sequelize, async () => {
    const applied = await createUmzug(sequelize, logger).up();
    return applied.map((migration) => migration.name);
  });
}

/** Throws PendingMigrationsError when the database lacks a migration that this code expects. */
export async function assertMigrated(sequelize: Sequelize, logger: Logger): Promise<void> {
  const pending = await createUmzug(sequelize, logger).pending();
  if (pending.length > 0) throw new PendingMigrationsError(pending.map((migration) => migration.name));
}

async function withMigrationLock<T>(sequelize: Sequelize, work: () => Promise<T>): Promise<T> {
  // Session-level advisory locks belong to one connection, so hold one connection for the whole run.
  const connection = (await sequelize.connectionManager.getConnection({ type: 'write' })) as unknown as {
    query: (sql: string, values?: unknown[]) => Promise<unknown>;
  };
  try {
    await connection.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work();
  } finally {
    await connection.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    sequelize.connectionManager.releaseConnection(connection as never);
  }
}
