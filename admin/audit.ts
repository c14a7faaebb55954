import type { ActionContext, ActionHandler, ActionRequest, ActionResponse, After } from 'adminjs';
import type { AppContext } from '../src/context.ts';
import { toError } from '../src/logger.ts';
import type { StaffAdmin } from './staff-session.ts';

export interface AuditInput {
  staff: StaffAdmin | undefined;
  action: string;
  resource: string;
  recordIds?: string[];
  details?: string;
}

/**
 * Writes one audit entry. A failure to write it is logged and does not undo the action, which already happened.
 */
export async function recordAudit(context: AppContext, input: AuditInput): Promise<void> {
  try {
    await context.models.AdminAuditEntry.create({
      staff_user_id: input.staff?.id ?? null,
      staff_email: input.staff?.email ?? 'unknown',
      action: input.action,
      resource: input.resource,
      record_ids: (input.recordIds ?? []).join(','),
      details: input.details?.slice(0, 2000) ?? null,
    });
  } catch (error) {
    context.logger.error({ err: toError(error), action: input.action, resource: input.resource }, 'could not write the audit entry');
  }
}

/** Wraps a custom action's handler so that each call writes an audit entry with the notice it returned. */
export function audited(context: AppContext, handler: ActionHandler<ActionResponse>): ActionHandler<ActionResponse> {
  return async (request, response, actionContext) => {
    const result = await handler(request, response, actionContext);
    await recordAudit(context, entryOf(actionContext, result));
    return result;
  };
}

/** An `after` hook for the built-in new, edit and delete actions: it audits the saving POST, not the GET that loads the form. */
export function auditAfter(context: AppContext): After<ActionResponse> {
  return async (result: ActionResponse, request: ActionRequest, actionContext: ActionContext) => {
    const failed = result.notice?.type === 'error' || Object.keys(result.record?.errors ?? {}).length > 0;
    if (request.method === 'post' && !failed) await recordAudit(context, entryOf(actionContext, result));
    return result;
  };
}

function entryOf(actionContext: ActionContext, result: ActionResponse): AuditInput {
  return {
    staff: actionContext.currentAdmin as StaffAdmin | undefined,
    action: actionContext.action.name,
    resource: actionContext.resource.id(),
    recordIds: auditedRecordIds(actionContext, result),
    details: result.notice?.message,
  };
}

/** Returns the ids an action touched: the bulk selection, the one record, or the record the action created. */
function auditedRecordIds(actionContext: ActionContext, result: ActionResponse): string[] {
  if (actionContext.records) return actionContext.records.map((record) => String(record.id()));
  if (actionContext.record) return [String(actionContext.record.id())];
  if (result.record?.id) return [String(result.record.id)];
  return [];
}
