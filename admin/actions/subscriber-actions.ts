import type { Action, ActionContext, ActionResponse, RecordActionResponse, BulkActionResponse, NoticeMessage } from 'adminjs';
import { Op } from 'sequelize';
import type { AppContext } from '../../src/context.ts';
import { processNextSubscriber, type ProcessOutcome } from '../../src/process-subscriber.ts';
import { runBatch, type RunSummary } from '../../src/run-batch.ts';
import { audited } from '../audit.ts';
import { resendAction } from './credential-actions.ts';

const RESOURCE_PATH = '/admin/resources/waitlist_subscribers';

/** Returns the subscriber actions for processing, re-sending, marking and retrying. Each calls the domain functions, never a copy of their steps. */
export function subscriberActions(context: AppContext): Record<string, Partial<Action<ActionResponse>>> {
  return {
    processNow: {
      actionType: 'record',
      component: false,
      icon: 'Play',
      guard: 'Process this subscriber now? A new account gets a welcome email with its temporary password.',
      isVisible: ({ record }) => record?.params.is_processed !== true,
      handler: audited(context, (_request, _response, actionContext) => processNow(context, actionContext)),
    },
    resendWelcome: {
      actionType: 'record',
      component: false,
      icon: 'Send',
      guard: 'Send a new welcome email? It carries a new temporary password or set-password link, which replaces the previous one once the email is accepted.',
      isVisible: ({ record }) => record?.params.is_processed === true && Boolean(record?.params.user_id),
      handler: audited(context, (_request, _response, actionContext) => resendForSubscriber(context, actionContext)),
    },
    retry: {
      actionType: 'record',
      component: false,
      icon: 'RotateCcw',
      guard: 'Retry this subscriber? Its attempts are reset and the next processor run takes it.',
      isVisible: ({ record }) => record?.params.is_processed !== true && Boolean(record?.params.gave_up_at),
      handler: audited(context, (_request, _response, actionContext) => retry(context, actionContext)),
    },
    // AdminJS's browser code calls an action by one type only, so retrying a selection is an action of its own.
    retrySelected: {
      actionType: 'bulk',
      component: false,
      icon: 'RotateCcw',
      guard: 'Retry the selected subscribers whose processing gave up? Their attempts are reset and the next processor run takes them.',
      handler: audited(context, (_request, _response, actionContext) => retry(context, actionContext)),
    },
    markProcessed: {
      actionType: 'bulk',
      component: false,
      icon: 'CheckSquare',
      guard: 'Mark the selected subscribers as processed? The processor then skips them, and no account or email is created.',
      handler: audited(context, (_request, _response, actionContext) => markProcessed(context, actionContext, true)),
    },
    markUnprocessed: {
      actionType: 'bulk',
      component: false,
      icon: 'Square',
      guard: 'Mark the selected subscribers as unprocessed? The next processor run takes them again; a linked account is linked again without an email.',
      handler: audited(context, (_request, _response, actionContext) => markProcessed(context, actionContext, false)),
    },
    processSelected: {
      actionType: 'bulk',
      component: false,
      icon: 'PlayCircle',
      guard: 'Process the selected subscribers now? Each new account gets a welcome email.',
      handler: audited(context, (_request, _response, actionContext) => processSelected(context, actionContext)),
    },
    processPending: {
      actionType: 'resource',
      component: false,
      icon: 'FastForward',
      guard: 'Process one batch of pending subscribers now? Each new account gets a welcome email.',
      handler: audited(context, () => processPending(context)),
    },
  };
}

async function processNow(context: AppContext, actionContext: ActionContext): Promise<RecordActionResponse> {
  const record = actionContext.record!;
  const outcome = await processNextSubscriber(context, { ids: [String(record.id())] });
  return reloaded(actionContext, outcomeNotice(outcome));
}

/** Builds the panel notice for how processing one subscriber ended. */
export function outcomeNotice(outcome: ProcessOutcome | undefined): NoticeMessage {
  if (!outcome) {
    return { type: 'error', message: 'Nothing was processed: the subscriber is already processed, or another processor is working on it right now.' };
  }
  if (outcome.result === 'created') {
    return { type: 'success', message: `Account ${outcome.username} created and the welcome email accepted by the mail server.` };
  }
  if (outcome.result === 'linked') {
    return { type: 'success', message: 'An account with this email existed already: it is now linked, and no email was sent.' };
  }
  const next = outcome.gaveUp ? 'Processing gave up: fix the cause, then use Retry.' : 'The processor will try again later.';
  return { type: 'error', message: `Processing failed (${outcome.code}): ${outcome.message}. ${next}` };
}

async function resendForSubscriber(context: AppContext, actionContext: ActionContext): Promise<RecordActionResponse> {
  const userId = actionContext.record?.params.user_id;
  if (!userId) return reloaded(actionContext, { type: 'error', message: 'This subscriber has no linked account, so there is nothing to re-send: process it first.' });
  return reloaded(actionContext, await resendAction(context, String(userId)));
}

async function retry(context: AppContext, actionContext: ActionContext): Promise<RecordActionResponse | BulkActionResponse> {
  const ids = actionContext.records ? actionContext.records.map((record) => String(record.id())) : [String(actionContext.record!.id())];
  const [cleared] = await context.models.WaitlistSubscriber.update(
    { attempts: 0, gave_up_at: null, next_attempt_at: null },
    { where: { id: { [Op.in]: ids }, is_processed: false, gave_up_at: { [Op.ne]: null } } },
  );

  const skipped = ids.length - cleared;
  const notice: NoticeMessage =
    cleared === 0
      ? { type: 'error', message: 'Nothing to retry: processing has not given up on the selected subscriber(s), or they are processed.' }
      : { type: 'success', message: `Retry scheduled for ${cleared} subscriber(s): the next processor run takes them.${skipped > 0 ? ` ${skipped} did not need a retry.` : ''}` };
  return actionContext.records ? reloadedMany(actionContext, notice) : reloaded(actionContext, notice);
}

async function markProcessed(context: AppContext, actionContext: ActionContext, processed: boolean): Promise<BulkActionResponse> {
  const ids = (actionContext.records ?? []).map((record) => String(record.id()));
  const values = processed
    ? { is_processed: true, processed_at: context.now(), next_attempt_at: null, gave_up_at: null }
    : { is_processed: false, processed_at: null, attempts: 0, next_attempt_at: null, gave_up_at: null, last_error_code: null, last_error_message: null };

  // Guarded by the current flag: a row locked by a processor waits for its commit, and is then skipped if the flag changed.
  const [changed] = await context.models.WaitlistSubscriber.update(values, { where: { id: { [Op.in]: ids }, is_processed: !processed } });

  const state = processed ? 'processed' : 'unprocessed';
  const unchanged = ids.length - changed;
  const message = `${changed} subscriber(s) marked as ${state}${unchanged > 0 ? `; ${unchanged} already were` : ''}.`;
  return reloadedMany(actionContext, { type: changed > 0 ? 'success' : 'info', message });
}

async function processSelected(context: AppContext, actionContext: ActionContext): Promise<BulkActionResponse> {
  const ids = (actionContext.records ?? []).map((record) => String(record.id()));
  const summary = await runBatch(context, { ids, batchSize: ids.length, trigger: 'admin' });
  return reloadedMany(actionContext, runNotice(summary));
}

async function processPending(context: AppContext): Promise<ActionResponse> {
  const summary = await runBatch(context, { batchSize: context.config.processor.batchSize, trigger: 'admin' });
  return { notice: runNotice(summary), redirectUrl: RESOURCE_PATH };
}

/** Builds the panel notice for a run: its counts, and why it stopped early or did nothing. */
export function runNotice(summary: RunSummary): NoticeMessage {
  if (summary.paused) {
    return { type: 'error', message: 'Processing is paused, so nothing was processed: resume it on the dashboard first.' };
  }

  const counts = `${summary.processed} account(s) created, ${summary.existing} existing account(s) linked, ${summary.failed} failed`;
  const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped (already processed or being processed elsewhere)` : '';
  const stopped = summary.stoppedBy ? ` The run stopped early (${summary.stoppedBy}): the mail server failed for every message.` : '';
  const type = summary.failed > 0 || summary.stoppedBy ? 'error' : 'success';
  return { type, message: `${counts}${skipped}.${stopped}` };
}

async function reloaded(actionContext: ActionContext, notice: NoticeMessage): Promise<RecordActionResponse> {
  const { resource, record, currentAdmin } = actionContext;
  const fresh = (await resource.findOne(String(record!.id()), actionContext)) ?? record!;
  return { record: fresh.toJSON(currentAdmin), notice };
}

async function reloadedMany(actionContext: ActionContext, notice: NoticeMessage): Promise<BulkActionResponse> {
  const { resource, records = [], currentAdmin } = actionContext;
  const fresh = await resource.findMany(records.map((record) => String(record.id())), actionContext);
  return { records: fresh.map((record) => record.toJSON(currentAdmin)), notice, redirectUrl: RESOURCE_PATH };
}
