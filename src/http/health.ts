import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { PendingMigrationsError, assertMigrated } from '../database/migrator.ts';
import { toError } from '../logger.ts';

/** Maximum wait for the database in a readiness check; load balancers give up on slow probes anyway. */
const READINESS_TIMEOUT_MS = 5000;

/** Readiness of this process: whether it can serve requests and process subscribers. */
export type Readiness =
  | { status: 'ready' }
  | { status: 'not_ready'; reason: 'migrations_pending'; message: string }
  | { status: 'not_ready'; reason: 'database_unreachable'; message: string };

/**
 * Routes for load balancers and orchestrators:
 * - `GET /healthz`: 200 while the process runs (liveness); it does not touch the database, so that a database
 *   outage does not get every process restarted.
 * - `GET /readyz`: 200 when the database responds and has every migration, 503 otherwise (readiness).
 */
export function healthRoutes(context: AppContext): Router {
  const router = Router();
  let wasReady = true;

  router.get('/healthz', (_request, response) => {
    response.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_request, response) => {
    const { readiness, error } = await checkReadiness(context);
    const ready = readiness.status === 'ready';

    // One line when readiness changes, rather than one per probe.
    if (ready !== wasReady) {
      if (ready) context.logger.info('ready again: the database responds and is migrated');
      else context.logger.warn({ reason: readiness.reason, err: error }, 'not ready');
      wasReady = ready;
    }

    response.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json(readiness);
  });

  return router;
}

/**
 * Checks that the database responds within READINESS_TIMEOUT_MS and that every migration is applied.
 * `error` is the database's own error, for the log only: its message may name hosts and users.
 */
export async function checkReadiness(context: AppContext): Promise<{ readiness: Readiness; error?: Error }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no response within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
  });

  try {
    await Promise.race([assertMigrated(context.database.sequelize, context.logger), timeout]);
    return { readiness: { status: 'ready' } };
  } catch (thrown) {
    const error = toError(thrown);
    if (error instanceof PendingMigrationsError) {
      return { readiness: { status: 'not_ready', reason: 'migrations_pending', message: error.message }, error };
    }
    return {
      readiness: { status: 'not_ready', reason: 'database_unreachable', message: 'The database did not respond; the service log has the error.' },
      error,
    };
  } finally {
    clearTimeout(timer);
  }
}
