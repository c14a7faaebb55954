import type { Server } from 'node:http';
import { Command } from 'commander';
import type { AppContext } from '../context.ts';
import { migrate } from '../database/migrator.ts';
import { createApp } from '../http/app.ts';
import { startMetricsListener } from '../http/metrics-endpoint.ts';
import { startScheduler, type Scheduler } from '../scheduler.ts';
import { untilStopSignal, withContext } from './bootstrap.ts';
import { announceFirstStaffAccount } from './first-staff-account.ts';

/** `waitlist serve` (what `npm start` runs): migrations, the web app and the scheduled processor in one process. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Apply migrations, serve the web app and run the processor on its schedule (what npm start runs).')
    .action(async () => {
      process.exitCode = await withContext(serve);
    });
}

async function serve(context: AppContext): Promise<number> {
  const { config, logger } = context;

  const applied = await migrate(context.database.sequelize, logger);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');

  const metricsListener = await startMetricsListener(context);
  const server = await listen(context).catch(async (error) => {
    await metricsListener?.close();
    throw error;
  });
  logMailDestination(context);
  await announceFirstStaffAccount(context, `${publicUrl(server, context)}/admin`);

  let scheduler: Scheduler | undefined;
  if (config.processor.enabled) {
    scheduler = startScheduler(context, {
      intervalSeconds: config.processor.intervalSeconds,
      batchSize: config.processor.batchSize,
      trigger: 'schedule',
    });
    logger.info({ intervalSeconds: config.processor.intervalSeconds, batchSize: config.processor.batchSize }, 'processor scheduled');
  } else {
    logger.info('processor disabled (PROCESSOR_ENABLED=false): run "waitlist process" as a separate worker');
  }

  const signal = await untilStopSignal();
  logger.info({ signal }, 'stopping: finishing the subscribers in flight');
  await scheduler?.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await metricsListener?.close();
  logger.info('stopped');
  return 0;
}

function publicUrl(server: Server, context: AppContext): string {
  const { host } = context.config.http;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : context.config.http.port;
  return `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
}

function listen(context: AppContext): Promise<Server> {
  const { host, port } = context.config.http;
  const app = createApp(context);

  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => {
      context.logger.info({ url: publicUrl(server, context) }, 'web app listening');
      resolve(server);
    });
    server.once('error', reject);
  });
}

function logMailDestination(context: AppContext) {
  if (context.config.email.smtp) {
    context.logger.info({ smtp: context.mailer.destination }, 'welcome emails go to the SMTP server');
  } else {
    context.logger.info(
      { outbox: context.mailer.destination },
      'no SMTP server configured (EMAIL_HOST unset): welcome emails are saved as .eml files in the outbox folder',
    );
  }
}
