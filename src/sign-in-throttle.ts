import { QueryTypes } from 'sequelize';
import type { AppContext } from './context.ts';

/** Failed sign-ins allowed within `lockoutMinutes`; the next failure locks the key out for `lockoutMinutes`. */
export interface ThrottleSettings {
  maxFailures: number;
  lockoutMinutes: number;
}

export interface ThrottleState {
  blocked: boolean;
  /** Whole seconds until the lockout ends; 0 when not blocked. */
  retryAfterSeconds: number;
}

/**
 * Counts failed sign-ins per key (such as `admin:<client address>`) in PostgreSQL, so that every web process
 * sees the same counts and a restart does not reset them.
 */
export async function readThrottle(context: AppContext, key: string): Promise<ThrottleState> {
  const [row] = await context.database.sequelize.query<{ blocked_until: Date }>(
    'SELECT blocked_until FROM sign_in_throttles WHERE key = :key AND blocked_until > :now',
    { replacements: { key, now: context.now() }, type: QueryTypes.SELECT },
  );
  return stateOf(context, row?.blocked_until);
}

/** Adds one failure for `key` and returns whether the key is now locked out. One statement, so concurrent failures all count. */
export async function recordSignInFailure(context: AppContext, key: string, settings: ThrottleSettings): Promise<ThrottleState & { failures: number }> {
  const now = context.now();
  const periodMs = settings.lockoutMinutes * 60 * 1000;
  const windowStart = new Date(now.getTime() - periodMs);
  const until = new Date(now.getTime() + periodMs);

  const [row] = await context.database.sequelize.query<{ failures: number; blocked_until: Date | null }>(
    `INSERT INTO sign_in_throttles AS t (key, failures, window_started_at, blocked_until)
     VALUES (:key, 1, :now, CASE WHEN 1 >= :max THEN CAST(:until AS timestamptz) END)
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN t.window_started_at <= :windowStart THEN 1 ELSE t.failures + 1 END,
       window_started_at = CASE WHEN t.window_started_at <= :windowStart THEN CAST(:now AS timestamptz) ELSE t.window_started_at END,
       blocked_until = CASE
         WHEN (CASE WHEN t.window_started_at <= :windowStart THEN 1 ELSE t.failures + 1 END) >= :max THEN CAST(:until AS timestamptz)
         ELSE t.blocked_until END
     RETURNING failures, blocked_until`,
    { replacements: { key, now, windowStart, until, max: settings.maxFailures }, type: QueryTypes.SELECT },
  );

  await pruneExpired(context, windowStart);
  return { ...stateOf(context, row.blocked_until), failures: row.failures };
}

/** Forgets the failures of `key`, after a successful sign-in. */
export async function clearSignInFailures(context: AppContext, key: string): Promise<void> {
  await context.database.sequelize.query('DELETE FROM sign_in_throttles WHERE key = :key', { replacements: { key } });
}

async function pruneExpired(context: AppContext, windowStart: Date) {
  await context.database.sequelize.query(
    'DELETE FROM sign_in_throttles WHERE window_started_at <= :windowStart AND (blocked_until IS NULL OR blocked_until <= :now)',
    { replacements: { windowStart, now: context.now() } },
  );
}

function stateOf(context: AppContext, blockedUntil: Date | null | undefined): ThrottleState {
  const remainingMs = blockedUntil ? new Date(blockedUntil).getTime() - context.now().getTime() : 0;
  if (remainingMs <= 0) return { blocked: false, retryAfterSeconds: 0 };
  return { blocked: true, retryAfterSeconds: Math.ceil(remainingMs / 1000) };
}
