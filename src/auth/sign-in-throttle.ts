import { createHash } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { AppContext } from '../context.ts';

/**
 * Kind of throttle counter: failures for one login (username or email) or for one signed-in account's current
 * password, failures from one client address, reset requests from one address, or admin panel sign-ins from
 * one address (limited by ADMIN_SIGN_IN_MAX_FAILURES).
 */
export type ThrottleScope = 'login' | 'account' | 'address' | 'reset-request' | 'admin-address';

export interface ThrottleKey {
  scope: ThrottleScope;
  /** The login as normalized, or the client address; only its hash is stored. */
  value: string;
}

export interface ThrottleVerdict {
  limited: boolean;
  /** True for the one attempt that first went over a limit in the window, so that a lockout is logged once. */
  justLimited: boolean;
  /** Seconds until the longest of the exceeded windows ends; 0 when not limited. */
  retryAfterSeconds: number;
}

interface CounterRow {
  key: string;
  attempts: number;
  window_started_at: Date;
}

/** Minimum interval between two deletions of expired counters in one process. */
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Counts attempts per key in the `sign_in_throttles` table, so that every web process sharing the database
 * reads the same counts. Each attempt is counted before the password is checked, in one upsert, so concurrent
 * requests cannot slip past the limit.
 * A successful sign-in then takes its attempt back.
 * Counters use fixed windows of SIGN_IN_THROTTLE_WINDOW_MINUTES that start at a key's first attempt.
 */
export class SignInThrottle {
  private lastPrunedAt = 0;

  constructor(private readonly context: AppContext) {}

  /** Counts one attempt for each key and reports whether any key is over its limit. */
  async recordAttempt(keys: ThrottleKey[]): Promise<ThrottleVerdict> {
    const now = this.context.now();
    const windowMs = this.windowMs();
    const rows = await this.context.database.sequelize.query<CounterRow>(
      `INSERT INTO sign_in_throttles AS counter (key, attempts, window_started_at)
       SELECT unnest($1::char(64)[]), 1, $2::timestamptz
       ON CONFLICT (key) DO UPDATE SET
         attempts = CASE WHEN counter.window_started_at <= $3 THEN 1 ELSE counter.attempts + 1 END,
         window_started_at = CASE WHEN counter.window_started_at <= $3 THEN $2 ELSE counter.window_started_at END
       RETURNING key, attempts, window_started_at`,
      // Sorted keys lock their rows in the same order in every request, so two of these upserts cannot deadlock.
      { bind: [[...new Set(keys.map(hashKey))].sort(), now.toISOString(), new Date(now.getTime() - windowMs).toISOString()], type: QueryTypes.SELECT },
    );

    await this.pruneNowAndThen(now);

    let retryAfterMs = 0;
    let justLimited = false;
    for (const key of keys) {
      const row = rows.find((candidate) => candidate.key === hashKey(key));
      if (row && row.attempts > this.limitFor(key.scope)) {
        retryAfterMs = Math.max(retryAfterMs, new Date(row.window_started_at).getTime() + windowMs - now.getTime());
        justLimited ||= row.attempts === this.limitFor(key.scope) + 1;
      }
    }
    return { limited: retryAfterMs > 0, justLimited, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
  }

  /**
   * Takes back the attempt of a successful sign-in: the login's counter starts again from zero, and the address
   * loses one attempt, so that a person's own successes never count against the people who share their address.
   */
  async recordSuccess(login: ThrottleKey, address: ThrottleKey): Promise<void> {
    await this.context.database.sequelize.query(
      `UPDATE sign_in_throttles
       SET attempts = CASE WHEN key = $1 THEN 0 ELSE greatest(attempts - 1, 0) END
       WHERE key IN ($1, $2)`,
      { bind: [hashKey(login), hashKey(address)] },
    );
  }

  private limitFor(scope: ThrottleScope): number {
    if (scope === 'admin-address') return this.context.config.admin.signInMaxFailures;
    const limits = this.context.config.auth.throttle;
    return scope === 'login' || scope === 'account' ? limits.maxFailuresPerAccount : limits.maxFailuresPerAddress;
  }

  private windowMs(): number {
    return this.context.config.auth.throttle.windowMinutes * 60 * 1000;
  }

  /** Deletes counters whose window has passed, at most once per PRUNE_INTERVAL_MS in each process. */
  private async pruneNowAndThen(now: Date) {
    if (Math.abs(now.getTime() - this.lastPrunedAt) < PRUNE_INTERVAL_MS) return;
    this.lastPrunedAt = now.getTime();

    const cutoff = new Date(now.getTime() - this.windowMs()).toISOString();
    await this.context.database.sequelize
      .query('DELETE FROM sign_in_throttles WHERE window_started_at <= $1', { bind: [cutoff] })
      .catch((error) => this.context.logger.warn({ err: error }, 'could not delete expired sign-in throttle counters'));
  }
}

/** Keys are stored as SHA-256 hashes, so the table contains no typed usernames, email addresses or client addresses. */
function hashKey(key: ThrottleKey): string {
  return createHash('sha256').update(`${key.scope}\u0000${key.value}`).digest('hex');
}
