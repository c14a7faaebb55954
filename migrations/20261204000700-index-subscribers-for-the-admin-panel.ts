import type { MigrationContext } from '../src/database/migrator.ts';

/**
 * Indexes the admin panel's subscriber list needs at a million rows:
 * - trigram indexes for its search, a case-insensitive "contains" (ILIKE '%text%') over email, name, first and
 *   last name. PostgreSQL combines them only when every searched column has one, so all four get one;
 * - the list's default order, newest first with the id breaking ties, so the first page and deep pages read only
 *   the rows they show instead of sorting the table.
 * pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since PostgreSQL 13, so the database owner
 * can create it.
 */
export async function up({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX waitlist_subscribers_email_trgm_idx ON waitlist_subscribers USING gin (email gin_trgm_ops);
    CREATE INDEX waitlist_subscribers_name_trgm_idx ON waitlist_subscribers USING gin (name gin_trgm_ops);
    CREATE INDEX waitlist_subscribers_first_name_trgm_idx ON waitlist_subscribers USING gin (first_name gin_trgm_ops);
    CREATE INDEX waitlist_subscribers_last_name_trgm_idx ON waitlist_subscribers USING gin (last_name gin_trgm_ops);
    CREATE INDEX waitlist_subscribers_created_at_idx ON waitlist_subscribers (created_at DESC NULLS LAST, id DESC);
  `);
}

export async function down({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    DROP INDEX waitlist_subscribers_email_trgm_idx, waitlist_subscribers_name_trgm_idx,
      waitlist_subscribers_first_name_trgm_idx, waitlist_subscribers_last_name_trgm_idx,
      waitlist_subscribers_created_at_idx;
  `);
}
