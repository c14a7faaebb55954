import { createReadStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
import type { AppContext } from '../src/context.ts';
import { deletePersonalData, exportPersonalData, PersonalDataError, type PersonalDataReport } from '../src/personal-data.ts';
import { isSubscriberSource, type SubscriberSource } from '../src/sources.ts';
import { exportSubscribers, parseRangeBound, type SubscriberFilter } from '../src/subscriber-export.ts';
import { ImportFileError, importSubscribers, type ImportSummary, type InvalidRow } from '../src/subscriber-import.ts';

// Import, Export and the data-protection actions of the subscribers resource in the admin panel.
// The work happens in plain functions (importFromUpload, exportSubscribersCsv, …) that tests call directly;
// `subscriberDataActions` wraps them as AdminJS action definitions for the `waitlist_subscribers` resource.
// The types below are the parts of AdminJS's action interfaces (adminjs 7.8) that these handlers use.

/** The request AdminJS hands an action handler: query string, parsed body (uploaded files included) and route params. */
export interface AdminActionRequest {
  method: 'get' | 'post';
  query?: Record<string, unknown>;
  payload?: Record<string, unknown>;
  params: { resourceId: string; recordId?: string; action: string };
}

interface AdminRecord {
  params: Record<string, unknown>;
  toJSON(currentAdmin?: unknown): unknown;
}

export interface AdminActionContext {
  currentAdmin?: Record<string, unknown>;
  record?: AdminRecord;
  h: { resourceUrl(options: { resourceId: string }): string };
}

type Notice = { message: string; type: 'success' | 'error' | 'info' };

/**
 * Paths of the React components for the actions that need a form or a download, to register with AdminJS's ComponentLoader.
 * NOTE: the test suite neither bundles nor renders these components; they were checked by hand in AdminJS 7.8.17.
 */
export const SUBSCRIBER_DATA_COMPONENT_FILES = {
  import: path.join(path.dirname(fileURLToPath(import.meta.url)), 'components', 'subscriber-import.jsx'),
  export: path.join(path.dirname(fileURLToPath(import.meta.url)), 'components', 'subscriber-export.jsx'),
  personalData: path.join(path.dirname(fileURLToPath(import.meta.url)), 'components', 'personal-data-export.jsx'),
};

/** Invalid rows an import returns to the panel; the rest are counted. The command line writes them all to a file. */
export const PANEL_INVALID_ROW_LIMIT = 500;

export interface PanelImportResult {
  notice: Notice;
  summary?: Omit<ImportSummary, 'header'>;
  invalidRows: InvalidRow[];
}

/**
 * Imports an uploaded CSV file (AdminJS puts uploads in `payload.file` as an object with the temporary
 * `path`, or `filepath` in newer formidable versions) with the same rules and counts as `waitlist import`.
 */
export async function importFromUpload(context: AppContext, payload: Record<string, unknown> = {}): Promise<PanelImportResult> {
  const file = payload.file as { path?: string; filepath?: string } | undefined;
  const filePath = file?.filepath ?? file?.path;
  if (!filePath) return { notice: { message: 'Choose a CSV file to import.', type: 'error' }, invalidRows: [] };

  const invalidRows: InvalidRow[] = [];
  try {
    const { header: _header, ...summary } = await importSubscribers(context, createReadStream(filePath), {
      dryRun: payload.dryRun === 'true' || payload.dryRun === true,
      phoneCountry: context.config.subscriberInput.phoneCountry,
      onInvalidRow: (row) => void (invalidRows.length < PANEL_INVALID_ROW_LIMIT && invalidRows.push(row)),
    });
    context.logger.info({ rows: summary.rows, added: summary.added, duplicates: summary.duplicates, invalid: summary.invalid, dryRun: summary.dryRun }, 'import from the admin panel finished');
    return { notice: importNotice(summary), summary, invalidRows };
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    return { notice: { message: error.message, type: 'error' }, invalidRows: [] };
  }
}

function importNotice(summary: Omit<ImportSummary, 'header'>): Notice {
  const added = summary.dryRun ? `${summary.added} would be added` : `${summary.added} added`;
  const listNote = summary.invalid > PANEL_INVALID_ROW_LIMIT ? ` (the first ${PANEL_INVALID_ROW_LIMIT} are listed; waitlist import writes them all to a file)` : '';
  return {
    message: `${summary.dryRun ? 'Dry run: ' : ''}${summary.rows} rows, ${added}, ${summary.duplicates} duplicates skipped, ${summary.invalid} invalid${listNote}.`,
    type: summary.invalid > 0 ? 'info' : 'success',
  };
}

/**
 * Reads the list's current filter from AdminJS's query string (`filters.source=referral`,
 * `filters.created_at~~from=2026-01-01`, …) so that Export writes what the list shows.
 */
export function filterFromAdminQuery(query: Record<string, unknown> = {}): SubscriberFilter {
  const text = (key: string) => (typeof query[`filters.${key}`] === 'string' ? (query[`filters.${key}`] as string).trim() : '');
  const yesNo = (key: string) => (text(key) === 'true' ? true : text(key) === 'false' ? false : undefined);
  const bound = (key: string, side: 'from' | 'to') => (text(key) ? parseRangeBound(text(key), side) : undefined);

  const sources = text('source')
    .split(',')
    .map((source) => source.trim())
    .filter((source): source is SubscriberSource => isSubscriberSource(source));

  return {
    sources: sources.length > 0 ? sources : undefined,
    processed: yesNo('is_processed'),
    needsAttention: yesNo('needs_attention'),
    hasUser: yesNo('has_user'),
    createdFrom: bound('created_at~~from', 'from'),
    createdUntil: bound('created_at~~to', 'to'),
    processedFrom: bound('processed_at~~from', 'from'),
    processedUntil: bound('processed_at~~to', 'to'),
    search: text('search') || text('email') || text('name') || undefined,
  };
}

/** Streams the CSV of the filtered subscribers as a download named after today's date. */
export async function exportSubscribersCsv(context: AppContext, query: Record<string, unknown>, response: Response): Promise<number> {
  const filter = filterFromAdminQuery(query);
  const day = context.now().toISOString().slice(0, 10);
  response.status(200);
  response.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="subscribers-${day}.csv"`, 'Cache-Control': 'no-store' });

  const count = await exportSubscribers(context, filter, response);
  context.logger.info({ count }, 'export from the admin panel finished');
  return count;
}

/** Everything stored about the subscriber's person, or the reason there is nothing. */
export async function personalDataOf(context: AppContext, subscriberId: string): Promise<{ personalData?: PersonalDataReport; notice?: Notice }> {
  try {
    return { personalData: await exportPersonalData(context, { subscriberId }) };
  } catch (error) {
    if (!(error instanceof PersonalDataError)) throw error;
    return { notice: { message: error.message, type: 'error' } };
  }
}

/** Deletes the subscriber's personal data (and the account with `withAccount`) and returns a notice of what was deleted. */
export async function deletePersonalDataNotice(context: AppContext, subscriberId: string, withAccount: boolean): Promise<Notice> {
  try {
    const summary = await deletePersonalData(context, { subscriberId }, { withAccount });
    const accountNote = summary.keptUserIds.length > 0 ? ' The linked account was kept.' : '';
    return {
      message: `Deleted the subscriber, ${summary.deliveries} email deliveries and ${summary.deletedUserIds.length} account(s).${accountNote}`,
      type: 'success',
    };
  } catch (error) {
    if (!(error instanceof PersonalDataError)) throw error;
    return { message: error.message, type: 'error' };
  }
}

export interface SubscriberDataActionOptions {
  /** Component ids returned by ComponentLoader.add for SUBSCRIBER_DATA_COMPONENT_FILES. */
  components: { import: string; export: string; personalData: string };
  /** Permission check for deleting personal data; by default superusers only, as for every delete in the panel. */
  canDelete?: (currentAdmin: Record<string, unknown> | undefined) => boolean;
}

const isSuperuser = (currentAdmin: Record<string, unknown> | undefined) => currentAdmin?.is_superuser === true;

/**
 * AdminJS action definitions for the subscribers resource: importSubscribers and exportSubscribers
 * (resource actions), exportPersonalData, deletePersonalData and deletePersonalDataWithAccount (record actions).
 */
export function subscriberDataActions(context: AppContext, options: SubscriberDataActionOptions) {
  const canDelete = options.canDelete ?? isSuperuser;
  const deleteAction = (withAccount: boolean, guard: string) => ({
    actionType: 'record' as const,
    icon: 'Trash2',
    variant: 'danger' as const,
    component: false as const,
    guard,
    isAccessible: ({ currentAdmin }: AdminActionContext) => canDelete(currentAdmin),
    // AdminJS calls actions without a component with GET; the strict same-site session cookie keeps other sites from triggering it.
    handler: async (_request: AdminActionRequest, _response: unknown, action: AdminActionContext) => {
      const record = requireRecord(action);
      const notice = await deletePersonalDataNotice(context, String(record.params.id), withAccount);
      return { record: record.toJSON(action.currentAdmin), notice, redirectUrl: notice.type === 'success' ? action.h.resourceUrl({ resourceId: 'waitlist_subscribers' }) : undefined };
    },
  });

  return {
    importSubscribers: {
      actionType: 'resource' as const,
      icon: 'Upload',
      component: options.components.import,
      handler: async (request: AdminActionRequest) => (request.method === 'post' ? importFromUpload(context, request.payload) : {}),
    },
    exportSubscribers: {
      actionType: 'resource' as const,
      icon: 'Download',
      component: options.components.export,
      // A drawer keeps the list's query string, and with it the filter the export applies.
      showInDrawer: true,
      // With ?download=csv the handler writes the file itself and returns nothing, so AdminJS sends no JSON after it.
      handler: async (request: AdminActionRequest, response: Response) => {
        if (request.query?.download === 'csv') {
          await exportSubscribersCsv(context, request.query, response);
          return undefined;
        }
        return {};
      },
    },
    exportPersonalData: {
      actionType: 'record' as const,
      icon: 'FileText',
      component: options.components.personalData,
      handler: async (_request: AdminActionRequest, _response: unknown, action: AdminActionContext) => {
        const record = requireRecord(action);
        return { record: record.toJSON(action.currentAdmin), ...(await personalDataOf(context, String(record.params.id))) };
      },
    },
    deletePersonalData: deleteAction(false, 'Delete this subscriber and their email deliveries? The linked account stays. This cannot be undone.'),
    deletePersonalDataWithAccount: deleteAction(true, 'Delete this subscriber, their email deliveries and their account? This cannot be undone.'),
  };
}

function requireRecord(action: AdminActionContext): AdminRecord {
  if (!action.record) throw new Error('This action needs a subscriber record.');
  return action.record;
}
