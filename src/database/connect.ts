import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { Sequelize } from 'sequelize';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { APPLICATION_NAME, useEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';

export interface Database {
  sequelize: Sequelize;
  /** Connection URL, for the few parts that open their own pool (sessions). */
  url: string;
  /** Registers a cleanup that runs before the database closes, such as ending another pool. */
  onClose(cleanup: () => Promise<void> | void): void;
  /** The embedded server this process uses, when DATABASE_URL is unset. */
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

/** Connects to DATABASE_URL, or to the embedded PostgreSQL in DATA_DIR (starting it if needed). */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  const embedded = config.database.url ? undefined : await useEmbeddedPostgres(config.database.embeddedDir, logger);
  const url = config.database.url ?? embedded!.url;
  const sequelize = createSequelize(url, config.database.poolMax);

  try {
    await sequelize.authenticate();
  } catch (error) {
    await sequelize.close();
    throw new Error(`Could not connect to PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}`);
  }

  const cleanups: Array<() => Promise<void> | void> = [];

  return {
    sequelize,
    url,
    embedded,
    onClose: (cleanup) => cleanups.push(cleanup),
    async close() {
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await sequelize.close();
      await embedded?.release();
    },
  };
}

/**
 * Creates the Sequelize instance for `url`. Sequelize ignores `sslmode` in a URL, so TLS settings are read with
 * pg's own parser (sslmode, sslrootcert, ssl), which the session pool uses too: both then connect the same way.
 */
export function createSequelize(url: string, poolMax: number): Sequelize {
  const { ssl } = parseConnectionString(url);

  return new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: pg,
    logging: false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 30_000 },
    dialectOptions: { application_name: APPLICATION_NAME, ...(ssl === undefined ? {} : { ssl }) },
    define: { underscored: true },
  });
}

/** Hides the password of a connection URL, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
