import type { MigrationContext } from '../src/database/migrator.ts';

/** Creates the table where express-session keeps sign-in sessions (the layout connect-pg-simple expects). */
export async function up({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    CREATE TABLE http_sessions (
      sid varchar NOT NULL PRIMARY KEY,
      sess json NOT NULL,
      expire timestamp(6) NOT NULL
    );
    CREATE INDEX http_sessions_expire_idx ON http_sessions (expire);
  `);
}

export async function down({ context: sequelize }: MigrationContext) {
  await sequelize.query('DROP TABLE http_sessions');
}
