import express, { type Express } from 'express';
import type { AppContext } from '../context.ts';
import { authRoutes } from './auth-routes.ts';
import { healthRoutes } from './health.ts';
import { metricsRoutes } from './metrics-endpoint.ts';
import { createSignupRouter } from './signup-routes.ts';
import { mountAdminPanel } from './admin.ts';

/** Builds the Express app: health checks now; the admin panel and APIs mount here too. */
export function createApp(context: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', context.config.session.trustProxy);

  app.use(healthRoutes(context));
  app.use(metricsRoutes(context));

  app.use(authRoutes(context));
  app.use(createSignupRouter(context));

  mountAdminPanel(app, context);
  return app;
}
