import type { MigrationContext } from '../src/database/migrator.ts';

/** Creates users, waitlist subscribers, email deliveries and processor runs. */
export async function up({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    CREATE TABLE users (
      id bigserial PRIMARY KEY,
      username varchar(150) NOT NULL UNIQUE,
      email varchar(254) NOT NULL,
      password_hash varchar(255),
      first_name varchar(150) NOT NULL DEFAULT '',
      last_name varchar(150),
      phone_number varchar(20),
      is_active boolean NOT NULL DEFAULT true,
      is_verified boolean NOT NULL DEFAULT false,
      is_staff boolean NOT NULL DEFAULT false,
      is_superuser boolean NOT NULL DEFAULT false,
      must_change_password boolean NOT NULL DEFAULT false,
      password_expires_at timestamptz,
      last_login timestamptz,
      date_joined timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
    -- Finding the next free numbered username is a prefix search.
    CREATE INDEX users_username_pattern_idx ON users (username text_pattern_ops);

    CREATE TABLE waitlist_subscribers (
      id bigserial PRIMARY KEY,
      email varchar(254) NOT NULL CHECK (email = btrim(email) AND email <> ''),
      name varchar(255),
      first_name varchar(150) NOT NULL DEFAULT '',
      last_name varchar(150),
      phone_number varchar(20),
      source varchar(32) NOT NULL DEFAULT 'website' CHECK (source IN (
        'website', 'social_media', 'email_campaign', 'referral',
        'advertisement', 'influencer', 'newsletter', 'other')),
      is_processed boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      attempts integer NOT NULL DEFAULT 0,
      last_error_code varchar(64),
      last_error_message text,
      next_attempt_at timestamptz,
      gave_up_at timestamptz
    );
    CREATE UNIQUE INDEX waitlist_subscribers_email_lower_key ON waitlist_subscribers (lower(email));
    CREATE INDEX waitlist_subscribers_user_id_idx ON waitlist_subscribers (user_id);
    -- The processor's claim query walks this index oldest first.
    CREATE INDEX waitlist_subscribers_due_idx ON waitlist_subscribers (created_at, id)
      WHERE is_processed = false AND gave_up_at IS NULL;

    CREATE TABLE email_deliveries (
      id bigserial PRIMARY KEY,
      recipient varchar(254) NOT NULL,
      kind varchar(32) NOT NULL,
      subscriber_id bigint REFERENCES waitlist_subscribers (id) ON DELETE CASCADE,
      user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      status varchar(16) NOT NULL CHECK (status IN ('accepted', 'failed')),
      message_id varchar(998),
      smtp_response text,
      error_code varchar(64),
      error_message text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX email_deliveries_subscriber_id_idx ON email_deliveries (subscriber_id);
    CREATE INDEX email_deliveries_user_id_idx ON email_deliveries (user_id);
    CREATE INDEX email_deliveries_created_at_idx ON email_deliveries (created_at);

    CREATE TABLE processor_runs (
      id bigserial PRIMARY KEY,
      trigger varchar(32) NOT NULL,
      host varchar(255) NOT NULL,
      pid integer NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      processed integer NOT NULL DEFAULT 0,
      existing integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0,
      skipped integer NOT NULL DEFAULT 0,
      duration_ms integer
    );
    CREATE INDEX processor_runs_started_at_idx ON processor_runs (started_at);
  `);
}

export async function down({ context: sequelize }: MigrationContext) {
  await sequelize.query('DROP TABLE processor_runs, email_deliveries, waitlist_subscribers, users');
}
