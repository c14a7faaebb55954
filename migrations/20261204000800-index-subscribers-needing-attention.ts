import type { MigrationContext } from '../src/database/migrator.ts';

/**
 * Indexes the subscribers that need attention (processing gave up), so that the dashboard counts them exactly
 * at any table size: the index holds those rows alone, usually a small share of the table.
 */
export async function up({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    CREATE INDEX waitlist_subscribers_needs_attention_idx ON waitlist_subscribers (gave_up_at)
      WHERE NOT is_processed AND gave_up_at IS NOT NULL;
  `);
}

export async function down({ context: sequelize }: MigrationContext) {
  await sequelize.query('DROP INDEX waitlist_subscribers_needs_attention_idx');
}
