import type { Config } from './config.ts';
import { openDatabase, type Database } from './database/connect.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { TemplatePair } from './mail/render-email.ts';
import { Metrics } from './metrics.ts';
import { defineModels, type Models } from '../models/index.ts';

/** Everything the service's functions need, built once by `createContext` and handed down. */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: Database;
  models: Models;
  mailer: Mailer;
  welcomeTemplate: TemplatePair;
  /** The current time; tests pass a clock they control. */
  now: () => Date;
  /** Prometheus metrics, present when METRICS_TOKEN or METRICS_PORT exposes them. */
  metrics?: Metrics;
}

export interface ContextOverrides {
  logger?: Logger;
  mailer?: Mailer;
  now?: () => Date;
  metrics?: Metrics;
}

/** Builds the database, models, mailer, logger and clock from the configuration: the service's one composition root. */
export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config);
  const database = await openDatabase(config, logger);
  const models = defineModels(database.sequelize, { phoneCountry: config.subscriberInput.phoneCountry });
  const mailer = overrides.mailer ?? createMailer(config, logger);

  return {
    config,
    logger,
    database,
    models,
    mailer,
    welcomeTemplate: new TemplatePair(config.email.templateDir, 'waitlist_welcome'),
    now: overrides.now ?? (() => new Date()),
    metrics: overrides.metrics ?? (exposesMetrics(config) ? new Metrics({ processMetrics: true }) : undefined),
  };
}

function exposesMetrics(config: Config): boolean {
  return config.metrics.token !== undefined || config.metrics.port !== undefined;
}

/** Closes the mail pool and the database (stopping the embedded server when this was its last user). */
export async function closeContext(context: AppContext): Promise<void> {
  context.mailer.close();
  await context.database.close();
}
