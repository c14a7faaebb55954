import express, { type Express } from 'express';
import type { AppContext } from '../context.ts';
import { assertMigrated } from '../database/migrator.ts';
import { mountAdminPanel } from './admin.ts';

/** Builds the Express app: health checks now; the admin panel and APIs mount here too. */
export function createApp(context: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', context.config.session.trustProxy);

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  app.get('/readyz', async (_request, response) => {
    try {
      await assertMigrated(context.database.sequelize, context.logger);
      response.json({ status: 'ready' });
    } catch (error) {
      response.status(503).json({ status: 'not_ready', error: (error as Error).message });
    }
  });

  mountAdminPanel(app, context);
  return app;
}
