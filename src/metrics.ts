import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Logger } from './logger.ts';
import { toError } from './logger.ts';
import { classifySendError, type SendErrorCode } from './mail/send-errors.ts';
import type { ProcessOutcome } from './process-subscriber.ts';
import type { RunSummary } from './run-batch.ts';

/** Recorder of the processor's work; AppContext carries one only when metrics are exposed. */
export interface MetricsRecorder {
  /** Counts one processed subscriber and its duration in seconds, from the claim to the commit. */
  recordOutcome(outcome: ProcessOutcome, seconds: number): void;
  /** Counts one welcome email handed to the SMTP server, with the send time in seconds. */
  recordWelcomeEmail(result: 'accepted' | SendErrorCode, seconds: number): void;
  /** Counts one finished run; `crashed` is true when the run ended with an error instead of a summary. */
  recordRun(summary: RunSummary, crashed: boolean): void;
}

/** Maximum wait for the database values of one scrape, so that a hung database cannot hang the scraper too. */
const DATABASE_READ_TIMEOUT_MS = 5000;

/** Seconds; a subscriber takes a hash (tens of milliseconds) plus an SMTP exchange (up to EMAIL_TIMEOUT_SECONDS). */
const PROCESSING_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SMTP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The codes a send can fail with (internal_error happens before sending, so no email carries it). */
const SMTP_ERROR_CODES: SendErrorCode[] = ['smtp_unavailable', 'smtp_auth_failed', 'smtp_deferred', 'smtp_rejected', 'send_failed'];

const LAST_SUCCESS_NAME = 'waitlist_last_successful_run_timestamp_seconds';

const COUNTS_SQL = `
  SELECT count(*) FILTER (WHERE gave_up_at IS NULL) AS pending,
         count(*) FILTER (WHERE gave_up_at IS NOT NULL) AS needs_attention,
         to_regclass('processor_settings') IS NOT NULL AS has_settings
  FROM waitlist_subscribers
  WHERE is_processed = false`;

const PAUSED_SQL = 'SELECT paused FROM processor_settings WHERE id = 1';

/**
 * The service's Prometheus metrics in their own registry. Counters and histograms cover what this process did.
 * The pending, needs-attention and paused gauges are read from the database at each scrape, so every process
 * reports the same totals, whichever process did the work.
 */
export class Metrics implements MetricsRecorder {
  readonly registry = new Registry();

  private readonly processed = new Counter({
    name: 'waitlist_subscribers_processed_total',
    help: 'Subscribers processed by this process: created (new account, welcome email accepted) or linked (account existed).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  private readonly failed = new Counter({
    name: 'waitlist_subscribers_failed_total',
    help: 'Failed processing attempts in this process, by error code; gave_up="true" when processing stopped retrying.',
    labelNames: ['code', 'gave_up'],
    registers: [this.registry],
  });

  private readonly processingSeconds = new Histogram({
    name: 'waitlist_processing_duration_seconds',
    help: 'Time to process one subscriber, from the claim to the commit.',
    labelNames: ['outcome'],
    buckets: PROCESSING_BUCKETS,
    registers: [this.registry],
  });

  private readonly emailsAccepted = new Counter({
    name: 'waitlist_welcome_emails_accepted_total',
    help: 'Welcome emails that the SMTP server (or the outbox) accepted.',
    registers: [this.registry],
  });

  private readonly emailsFailed = new Counter({
    name: 'waitlist_welcome_emails_failed_total',
    help: 'Welcome emails that were not accepted, by error code (smtp_unavailable, smtp_auth_failed, smtp_deferred, smtp_rejected, send_failed).',
    labelNames: ['code'],
    registers: [this.registry],
  });

  private readonly smtpSeconds = new Histogram({
    name: 'waitlist_smtp_send_duration_seconds',
    help: 'Time for the SMTP server to accept or refuse one welcome email, including the wait for a pooled connection.',
    labelNames: ['result'],
    buckets: SMTP_BUCKETS,
    registers: [this.registry],
  });

  private readonly runs = new Counter({
    name: 'waitlist_processor_runs_total',
    help: 'Processor runs in this process: completed, stopped_early (the SMTP server failed as a whole) or crashed.',
    labelNames: ['result'],
    registers: [this.registry],
  });

  // Registered at the first completed run, so that a process that never runs the processor does not report "never".
  private readonly lastSuccess = new Gauge({
    name: LAST_SUCCESS_NAME,
    help: 'Unix time at which this process last completed a run that was neither stopped early nor crashed.',
    registers: [],
  });

  private readonly pending = new Gauge({
    name: 'waitlist_subscribers_pending',
    help: 'Unprocessed subscribers that processing will still try, including those waiting for a retry (read from the database).',
    registers: [this.registry],
  });

  private readonly needsAttention = new Gauge({
    name: 'waitlist_subscribers_needs_attention',
    help: 'Unprocessed subscribers on which processing gave up; an operator must retry them (read from the database).',
    registers: [this.registry],
  });

  private readonly paused = new Gauge({
    name: 'waitlist_processing_paused',
    help: '1 while processing is paused from the admin panel, 0 otherwise (read from the database).',
    registers: [this.registry],
  });

  private readonly databaseUp = new Gauge({
    name: 'waitlist_database_up',
    help: '1 when the database responded to the last scrape, 0 when it did not (then the database gauges are NaN).',
    registers: [this.registry],
  });

  private databaseWasUp = true;

  /** `processMetrics` adds Node's own metrics (CPU, memory, event loop lag, garbage collection). */
  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });

    // Series that exist from the start let rate() and alerts see the first increase.
    for (const outcome of ['created', 'linked']) this.processed.inc({ outcome }, 0);
    for (const code of SMTP_ERROR_CODES) this.emailsFailed.inc({ code }, 0);
    for (const result of ['completed', 'stopped_early', 'crashed']) this.runs.inc({ result }, 0);
  }

  recordOutcome(outcome: ProcessOutcome, seconds: number): void {
    this.processingSeconds.observe({ outcome: outcome.result }, seconds);

    if (outcome.result === 'failed') {
      this.failed.inc({ code: outcome.code, gave_up: String(outcome.gaveUp) });
    } else {
      this.processed.inc({ outcome: outcome.result });
    }
  }

  recordWelcomeEmail(result: 'accepted' | SendErrorCode, seconds: number): void {
    this.smtpSeconds.observe({ result: result === 'accepted' ? 'accepted' : 'failed' }, seconds);

    if (result === 'accepted') this.emailsAccepted.inc();
    else this.emailsFailed.inc({ code: result });
  }

  recordRun(summary: RunSummary, crashed: boolean): void {
    let result = 'completed';
    if (crashed) result = 'crashed';
    else if (summary.stoppedBy) result = 'stopped_early';
    this.runs.inc({ result });
    if (result !== 'completed') return;

    if (!this.registry.getSingleMetric(LAST_SUCCESS_NAME)) this.registry.registerMetric(this.lastSuccess);
    this.lastSuccess.set(Date.now() / 1000);
  }

  /** Reads the database gauges and returns every metric in Prometheus' text format. */
  async render(sequelize: Sequelize, logger: Logger): Promise<string> {
    await this.readDatabase(sequelize, logger);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async readDatabase(sequelize: Sequelize, logger: Logger) {
    try {
      const values = await withTimeout(readDatabaseValues(sequelize), DATABASE_READ_TIMEOUT_MS);
      this.pending.set(values.pending);
      this.needsAttention.set(values.needsAttention);
      this.paused.set(values.paused ? 1 : 0);
      this.databaseUp.set(1);

      if (!this.databaseWasUp) logger.info('metrics: the database responds again');
      this.databaseWasUp = true;
    } catch (error) {
      // Stale counts would hide the outage, and 0 would read as "nothing pending", so the gauges read NaN until the next response.
      this.pending.set(Number.NaN);
      this.needsAttention.set(Number.NaN);
      this.paused.set(Number.NaN);
      this.databaseUp.set(0);

      // One line per outage rather than one per scrape.
      if (this.databaseWasUp) logger.warn({ err: toError(error) }, 'metrics: the database did not respond; its gauges read NaN until it does');
      this.databaseWasUp = false;
    }
  }
}

async function readDatabaseValues(sequelize: Sequelize) {
  const [counts] = await sequelize.query<{ pending: string; needs_attention: string; has_settings: boolean }>(COUNTS_SQL, {
    type: QueryTypes.SELECT,
  });

  // NOTE: processor_settings (the pause switch) comes with the admin panel's migration; without it nothing is paused.
  let paused = false;
  if (counts.has_settings) {
    const [settings] = await sequelize.query<{ paused: boolean }>(PAUSED_SQL, { type: QueryTypes.SELECT });
    paused = settings?.paused ?? false;
  }

  return { pending: Number(counts.pending), needsAttention: Number(counts.needs_attention), paused };
}

/**
 * Sends one welcome email through `send`, records its time and result on `metrics` when there is one,
 * and returns or throws what `send` did.
 */
export async function timeWelcomeEmail<T>(metrics: MetricsRecorder | undefined, send: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  const elapsedSeconds = () => (performance.now() - startedAt) / 1000;

  try {
    const accepted = await send();
    metrics?.recordWelcomeEmail('accepted', elapsedSeconds());
    return accepted;
  } catch (error) {
    metrics?.recordWelcomeEmail(classifySendError(error).code, elapsedSeconds());
    throw error;
  }
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not respond within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
