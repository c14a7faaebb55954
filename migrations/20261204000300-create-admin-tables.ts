import type { MigrationContext } from '../src/database/migrator.ts';

/**
 * Creates the tables of the admin panel: the processor's pause switch (one row) and the audit trail of
 * admin actions.
 */
export async function up({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    CREATE TABLE processor_settings (
      id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      paused boolean NOT NULL DEFAULT false,
      paused_at timestamptz,
      paused_by varchar(254),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO processor_settings (id) VALUES (1);

    CREATE TABLE admin_audit_entries (
      id bigserial PRIMARY KEY,
      staff_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      staff_email varchar(254) NOT NULL,
      action varchar(64) NOT NULL,
      resource varchar(64) NOT NULL,
      record_ids text NOT NULL DEFAULT '',
      details text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX admin_audit_entries_created_at_idx ON admin_audit_entries (created_at);
  `);
}

export async function down({ context: sequelize }: MigrationContext) {
  await sequelize.query('DROP TABLE admin_audit_entries, processor_settings');
}
