import { hostname } from 'node:os';
import type { AppContext } from './context.ts';
import { toError } from './logger.ts';
import { processNextSubscriber, type ProcessOutcome } from './process-subscriber.ts';
import { readPauseState } from './processing-pause.ts';

export interface RunOptions {
  /** At most this many subscribers are claimed in the run. */
  batchSize: number;
  /** Trigger of the run, stored on its processor_runs row: `schedule`, `command` or `admin`. */
  trigger: string;
  /** Only these subscribers, whether due or not (for admin actions on a selection). */
  ids?: string[];
  /** Once aborted, no new subscriber is claimed; those in flight finish. */
  signal?: AbortSignal;
}

/** Counts of one run, as logged and stored on its processor_runs row. */
export interface RunSummary {
  /** Id of the run's processor_runs row; empty for a paused run, which records no row. */
  runId: string;
  processed: number;
  existing: number;
  failed: number;
  /** Requested ids that were not processed: already processed, or held by another processor. */
  skipped: number;
  durationMs: number;
  outcomes: ProcessOutcome[];
  /** Set when the run stopped early because the SMTP server failed as a whole. */
  stoppedBy?: string;
  /** True when processing was paused at the start, so the run claimed nothing. */
  paused?: boolean;
}

/**
 * Processes up to `batchSize` subscribers, oldest first, with PROCESSOR_CONCURRENCY of them in flight at once,
 * so that one subscriber's hashing overlaps another's sending. A subscriber is tried at most once per run.
 */
export async function runBatch(context: AppContext, options: RunOptions): Promise<RunSummary> {
  const startedAt = Date.now();
  // NOTE: the switch is read once per run, so a run already going when processing is paused finishes its batch.
  const pause = await readPauseState(context);
  if (pause.paused) {
    context.logger.info({ trigger: options.trigger, pausedBy: pause.pausedBy, pausedAt: pause.pausedAt }, 'processing is paused: this run claims no subscriber');
    return { runId: '', processed: 0, existing: 0, failed: 0, skipped: options.ids?.length ?? 0, durationMs: 0, outcomes: [], paused: true };
  }

  const run = await context.models.ProcessorRun.create({
    trigger: options.trigger,
    host: hostname(),
    pid: process.pid,
    finished_at: null,
    duration_ms: null,
  });
  const logger = context.logger.child({ runId: run.id });

  const failedIds = new Set<string>();
  const outcomes: ProcessOutcome[] = [];
  let claims = 0;
  let stoppedBy: string | undefined;

  const shouldStop = () => options.signal?.aborted || stoppedBy !== undefined || claims >= options.batchSize;

  const worker = async () => {
    while (!shouldStop()) {
      claims++;
      const outcome = await processNextSubscriber({ ...context, logger }, { ids: options.ids, excludeIds: failedIds });
      if (!outcome) {
        claims--;
        return;
      }

      // Only a failed subscriber can be claimed again in this run; the others are processed now.
      if (outcome.result === 'failed') failedIds.add(outcome.subscriberId);
      outcomes.push(outcome);
      if (outcome.result === 'failed' && outcome.serverWide) stoppedBy = outcome.code;
    }
  };

  const slots = Math.min(context.config.processor.concurrency, options.batchSize);
  const results = await Promise.allSettled(Array.from({ length: slots }, worker));
  const crashed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');

  const summary: RunSummary = {
    runId: run.id,
    processed: outcomes.filter((outcome) => outcome.result === 'created').length,
    existing: outcomes.filter((outcome) => outcome.result === 'linked').length,
    failed: outcomes.filter((outcome) => outcome.result === 'failed').length,
    skipped: options.ids ? options.ids.length - outcomes.length : 0,
    durationMs: Date.now() - startedAt,
    outcomes,
    stoppedBy,
  };

  await run.update({ ...countsOf(summary), finished_at: context.now(), duration_ms: summary.durationMs }).catch((error) => {
    logger.warn({ err: toError(error) }, 'could not record the run totals');
  });

  if (stoppedBy) logger.warn({ code: stoppedBy }, 'run stopped early: the SMTP server failed for every message; the rest wait for the next run');
  logger.info({ ...countsOf(summary), durationMs: summary.durationMs, trigger: options.trigger }, 'processor run finished');
  context.metrics?.recordRun(summary, crashed !== undefined);

  if (crashed) throw crashed.reason;
  return summary;
}

function countsOf(summary: RunSummary) {
  return { processed: summary.processed, existing: summary.existing, failed: summary.failed, skipped: summary.skipped };
}
