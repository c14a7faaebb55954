import { Command } from 'commander';
import { assertMigrated } from '../database/migrator.ts';
import { startMetricsListener } from '../http/metrics-endpoint.ts';
import type { RunSummary } from '../run-batch.ts';
import { runBatch } from '../run-batch.ts';
import { startScheduler } from '../scheduler.ts';
import { untilStopSignal, withContext } from './bootstrap.ts';
import { wholeNumber } from './options.ts';

interface ProcessOptions {
  once?: boolean;
  interval?: number;
  batchSize?: number;
}

/** `waitlist process`: the standalone worker. */
export function processCommand(): Command {
  return new Command('process')
    .description('Create accounts for waitlist subscribers and send their welcome emails, every interval or once.')
    .option('--once', 'run one batch and exit')
    .option('--interval <seconds>', 'seconds from the start of one run to the start of the next (default: PROCESSOR_INTERVAL_SECONDS, 60)', wholeNumber('--interval', 1, 86400))
    .option('--batch-size <n>', 'most subscribers claimed per run (default: PROCESSOR_BATCH_SIZE, 10)', wholeNumber('--batch-size', 1, 10000))
    .action(async (options: ProcessOptions) => {
      process.exitCode = await withContext((context) => runProcessCommand(context, options));
    });
}

async function runProcessCommand(context: Parameters<Parameters<typeof withContext>[0]>[0], options: ProcessOptions): Promise<number> {
  await assertMigrated(context.database.sequelize, context.logger);

  const batchSize = options.batchSize ?? context.config.processor.batchSize;
  const intervalSeconds = options.interval ?? context.config.processor.intervalSeconds;
  context.logger.info({ batchSize, intervalSeconds: options.once ? undefined : intervalSeconds, mail: context.mailer.destination }, 'processor starting');

  if (options.once) {
    const summary = await runBatch(context, { batchSize, trigger: 'command' });
    if (summary.paused) process.stdout.write('Processing is paused, so nothing was processed. Resume it from the admin dashboard.\n');
    printTotals([summary]);
    return 0;
  }

  const metricsListener = await startMetricsListener(context);
  const summaries: RunSummary[] = [];
  const scheduler = startScheduler(context, {
    intervalSeconds,
    batchSize,
    trigger: 'command',
    onRun: ({ summary }) => summary && summaries.push(summary),
  });

  const signal = await untilStopSignal();
  context.logger.info({ signal }, 'stopping: finishing the subscribers in flight');
  await scheduler.stop();
  await metricsListener?.close();
  printTotals(summaries);
  return 0;
}

function printTotals(summaries: RunSummary[]) {
  const sum = (key: 'processed' | 'existing' | 'failed' | 'skipped') => summaries.reduce((total, summary) => total + summary[key], 0);
  process.stdout.write(
    `Totals: ${sum('processed')} processed, ${sum('existing')} existing accounts linked, ${sum('failed')} failed, ${sum('skipped')} skipped in ${summaries.length} run(s).\n`,
  );
}
