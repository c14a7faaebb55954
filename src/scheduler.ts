import cron from 'node-cron';
import type { AppContext } from './context.ts';
import { toError } from './logger.ts';
import { runBatch, type RunSummary } from './run-batch.ts';

export interface SchedulerOptions {
  intervalSeconds: number;
  batchSize: number;
  trigger: string;
  /** Called after each run, with its summary or the error that ended it. */
  onRun?: (result: { summary?: RunSummary; error?: Error }) => void;
}

export interface Scheduler {
  /** Start time of the next run; undefined while a run is going on or after stop(). */
  nextRunAt(): Date | undefined;
  /** Stops scheduling, lets the run in flight finish its claimed subscribers, and resolves when it has. */
  stop(): Promise<void>;
}

/**
 * Runs the processor every `intervalSeconds`, start to start, the first run within a second, never two at a time.
 * Cron steps cannot express "every 45 seconds" because they restart each minute, so node-cron ticks every second and
 * each tick starts a run only when the period since the last start has passed.
 */
export function startScheduler(context: AppContext, options: SchedulerOptions): Scheduler {
  const stopping = new AbortController();
  const periodMs = options.intervalSeconds * 1000;
  let nextRunAt = Date.now();
  let running: Promise<void> | undefined;

  const tick = () => {
    if (running || stopping.signal.aborted || Date.now() < nextRunAt) return;

    nextRunAt += periodMs * Math.max(1, Math.ceil((Date.now() - nextRunAt + 1) / periodMs));
    running = runBatch(context, { batchSize: options.batchSize, trigger: options.trigger, signal: stopping.signal })
      .then((summary) => options.onRun?.({ summary }))
      .catch((thrown) => {
        const error = toError(thrown);
        context.logger.error({ err: error }, 'processor run failed; the next run will try again');
        options.onRun?.({ error });
      })
      .finally(() => {
        running = undefined;
      });
  };

  // The first run starts at the first tick, within a second, so that every start falls on a tick and the
  // period between starts stays whole.
  const task = cron.schedule('* * * * * *', tick, { noOverlap: true, name: 'waitlist-processor' });

  return {
    nextRunAt: () => (running || stopping.signal.aborted ? undefined : new Date(nextRunAt)),
    async stop() {
      stopping.abort();
      task.destroy();
      await running;
    },
  };
}
