import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express, { Router, type RequestHandler } from 'express';
import type { AppContext } from '../context.ts';
import { toError } from '../logger.ts';

/**
 * `GET /metrics` on the web app's port, served only when METRICS_TOKEN is set and then only to requests that
 * carry it as `Authorization: Bearer <token>`. Without a token the route does not exist (404), so that a default
 * setup does not expose metrics on the public port. METRICS_PORT serves them on a port of their own instead.
 */
export function metricsRoutes(context: AppContext): Router {
  const router = Router();
  if (context.metrics && context.config.metrics.token) router.get('/metrics', metricsHandler(context));
  return router;
}

/** Serves a scrape in Prometheus' text format, after checking the bearer token when METRICS_TOKEN is set. */
export function metricsHandler(context: AppContext): RequestHandler {
  const { metrics } = context;
  const token = context.config.metrics.token;
  if (!metrics) throw new Error('metricsHandler needs a context with metrics: set METRICS_TOKEN or METRICS_PORT');

  return async (request, response) => {
    if (token !== undefined && !bearerMatches(request.get('authorization'), token)) {
      response
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="metrics"')
        .type('text/plain')
        .send('Missing or wrong bearer token: send "Authorization: Bearer <METRICS_TOKEN>".\n');
      return;
    }

    try {
      const body = await metrics.render(context.database.sequelize, context.logger);
      response.set({ 'Cache-Control': 'no-store', 'Content-Type': metrics.contentType }).send(body);
    } catch (error) {
      context.logger.error({ err: toError(error) }, 'metrics could not be rendered');
      response.status(500).type('text/plain').send('Metrics could not be rendered; the service log has the error.\n');
    }
  };
}

/** Compares in constant time, over digests so that the lengths do not leak either. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;

  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

/** A listener that serves only `/metrics` and `/healthz`, on METRICS_HOST:METRICS_PORT. */
export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the metrics listener when METRICS_PORT is set, and resolves to undefined otherwise. The web process and
 * standalone workers both start it, so that a worker, which has no web app, can be scraped and health-checked too.
 */
export async function startMetricsListener(context: AppContext): Promise<MetricsListener | undefined> {
  const { port, host } = context.config.metrics;
  if (port === undefined || !context.metrics) return undefined;

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request, response) => {
    response.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.get('/metrics', metricsHandler(context));

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, () => resolve(listening));
    listening.once('error', reject);
  });

  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/metrics`;
  context.logger.info({ url }, 'metrics listening');

  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
