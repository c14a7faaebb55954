import pino from 'pino';
import { createSequelize } from '../../src/database/connect.ts';
import { migrate } from '../../src/database/migrator.ts';

/** Applies every migration to the benchmark database. */
export async function migrateBenchDatabase(url: string): Promise<void> {
  const sequelize = createSequelize(url, 2);
  try {
    await migrate(sequelize, pino({ level: 'warn' }));
  } finally {
    await sequelize.close();
  }
}
