import type { MigrationContext } from '../src/database/migrator.ts';

/**
 * Creates one-time password tokens (set-password and reset links) and the sign-in throttle counters,
 * and indexes sessions by the signed-in user so that a password change can end the person's other sessions.
 */
export async function up({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    CREATE TABLE password_tokens (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      purpose varchar(16) NOT NULL CHECK (purpose IN ('set_password', 'reset_password')),
      -- SHA-256 of the token, in hex: the token itself is only ever in the email.
      token_hash char(64) NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz
    );
    CREATE INDEX password_tokens_user_id_idx ON password_tokens (user_id, created_at);

    -- One row per throttled key (a hashed login or client address); the window restarts once it has passed.
    CREATE TABLE sign_in_throttles (
      key char(64) PRIMARY KEY,
      attempts integer NOT NULL,
      window_started_at timestamptz NOT NULL
    );
    CREATE INDEX sign_in_throttles_window_idx ON sign_in_throttles (window_started_at);

    CREATE INDEX http_sessions_user_id_idx ON http_sessions ((sess ->> 'userId'));
  `);
}

export async function down({ context: sequelize }: MigrationContext) {
  await sequelize.query(`
    DROP INDEX http_sessions_user_id_idx;
    DROP TABLE sign_in_throttles, password_tokens;
  `);
}
