import type { ActionResponse, ResourceWithOptions } from 'adminjs';
import type { AppContext } from '../../src/context.ts';
import { setPaused } from '../../src/processing-pause.ts';
import { audited } from '../audit.ts';
import { FilteredResource } from '../filtered-resource.ts';
import type { StaffAdmin } from '../staff-session.ts';

const READ_ONLY_ACTIONS = {
  new: { isAccessible: false },
  edit: { isAccessible: false },
  delete: { isAccessible: false },
  bulkDelete: { isAccessible: false },
};

/** Email deliveries: a read-only log of every attempt to send, with the server's response or the error. */
export function deliveryResource(context: AppContext): ResourceWithOptions {
  const kinds = ['welcome', 'resend'];
  const statuses = ['accepted', 'failed'];

  return {
    resource: new FilteredResource(context.models.EmailDelivery, {
      filterable: ['status', 'kind', 'recipient', 'created_at', 'subscriber_id', 'user_id'],
      sortable: ['recipient', 'kind', 'status', 'created_at', 'id'],
      defaultSort: 'created_at',
      exactText: ['status', 'kind'],
      editable: [],
    }),
    options: {
      id: 'email_deliveries',
      navigation: { name: 'Waitlist', icon: 'Users' },
      sort: { sortBy: 'created_at', direction: 'desc' },
      listProperties: ['recipient', 'kind', 'status', 'smtp_response', 'error_code', 'error_message', 'created_at'],
      filterProperties: ['status', 'kind', 'recipient', 'created_at'],
      properties: {
        kind: { availableValues: kinds.map((value) => ({ value, label: value })) },
        status: { availableValues: statuses.map((value) => ({ value, label: value })) },
        subscriber_id: { reference: 'waitlist_subscribers' },
        user_id: { reference: 'users' },
      },
      actions: READ_ONLY_ACTIONS,
    },
  };
}

/** The audit trail of admin actions, read-only for everyone. */
export function auditResource(context: AppContext): ResourceWithOptions {
  return {
    resource: new FilteredResource(context.models.AdminAuditEntry, {
      filterable: ['action', 'resource', 'staff_email', 'created_at'],
      sortable: ['staff_email', 'action', 'resource', 'created_at', 'id'],
      defaultSort: 'created_at',
      exactText: ['action', 'resource'],
      editable: [],
    }),
    options: {
      id: 'admin_audit_entries',
      navigation: { name: 'Administration', icon: 'Shield' },
      sort: { sortBy: 'created_at', direction: 'desc' },
      listProperties: ['created_at', 'staff_email', 'action', 'resource', 'record_ids', 'details'],
      filterProperties: ['staff_email', 'action', 'resource', 'created_at'],
      properties: { staff_user_id: { reference: 'users' }, details: { type: 'textarea' } },
      actions: READ_ONLY_ACTIONS,
    },
  };
}

/** The pause switch, hidden from the navigation; the dashboard calls its two actions. */
export function processorSettingsResource(context: AppContext): ResourceWithOptions {
  const toggle = (paused: boolean) =>
    audited(context, async (_request, _response, actionContext): Promise<ActionResponse> => {
      const staff = actionContext.currentAdmin as StaffAdmin | undefined;
      const state = await setPaused(context, paused, staff?.email ?? 'unknown');
      const message = state.paused ? 'Processing paused: no processor claims subscribers until it is resumed.' : 'Processing resumed.';
      return { notice: { type: 'success', message }, redirectUrl: actionContext.h.dashboardUrl() };
    });

  return {
    resource: new FilteredResource(context.models.ProcessorSetting, { filterable: [], sortable: ['id'], defaultSort: 'id', editable: [] }),
    options: {
      id: 'processor_settings',
      navigation: false,
      actions: {
        ...READ_ONLY_ACTIONS,
        list: { isAccessible: false },
        show: { isAccessible: false },
        search: { isAccessible: false },
        pauseProcessing: { actionType: 'resource', component: false, isVisible: false, handler: toggle(true) },
        resumeProcessing: { actionType: 'resource', component: false, isVisible: false, handler: toggle(false) },
      },
    },
  };
}
