import type { Action, ActionHandler, ActionResponse, ResourceWithOptions } from 'adminjs';
import { Op } from 'sequelize';
import type { AppContext } from '../../src/context.ts';
import { SOURCE_LABELS, SUBSCRIBER_SOURCES } from '../../src/sources.ts';
import { subscriberActions } from '../actions/subscriber-actions.ts';
import { subscriberDataActions } from '../subscriber-data-actions.ts';
import { audited, auditAfter } from '../audit.ts';
import { Components } from '../components.ts';
import { containsText, FilteredResource } from '../filtered-resource.ts';
import { isSuperuser } from '../staff-session.ts';

const SEARCHED_COLUMNS = ['email', 'name', 'first_name', 'last_name'];

/** Waitlist subscribers: list, filters, one search box, a sectioned show page and the processing actions. */
export function subscriberResource(context: AppContext): ResourceWithOptions {
  const resource = new FilteredResource(context.models.WaitlistSubscriber, {
    filterable: ['is_processed', 'source', 'created_at', 'processed_at', 'user_id', 'email'],
    sortable: ['email', 'name', 'source', 'is_processed', 'created_at', 'processed_at', 'user_id', 'gave_up_at', 'id'],
    defaultSort: 'created_at',
    exactText: ['source'],
    editable: ['email', 'name', 'phone_number', 'source'],
    duplicateMessage: { field: 'email', message: 'This email address is already on the waitlist (addresses are compared without regard to case).' },
    virtualFilters: {
      search: (text) => ({ [Op.or]: SEARCHED_COLUMNS.map((column) => containsText(column, text.trim())) }),
      needs_attention: (value) => (value === 'true' ? { is_processed: false, gave_up_at: { [Op.ne]: null } } : { [Op.not]: { is_processed: false, gave_up_at: { [Op.ne]: null } } }),
      has_user: (value) => ({ user_id: value === 'true' ? { [Op.ne]: null } : null }),
    },
  });

  return {
    resource,
    options: {
      id: 'waitlist_subscribers',
      navigation: { name: 'Waitlist', icon: 'Users' },
      sort: { sortBy: 'created_at', direction: 'desc' },
      titleProperty: 'email',
      listProperties: ['email', 'name', 'source', 'is_processed', 'created_at', 'processed_at', 'user_id', 'gave_up_at'],
      filterProperties: ['search', 'is_processed', 'source', 'created_at', 'processed_at', 'needs_attention', 'has_user'],
      editProperties: ['email', 'name', 'phone_number', 'source'],
      properties: {
        id: { isVisible: { list: false, filter: false, show: true, edit: false } },
        search: { type: 'string', isVisible: { list: false, filter: true, show: false, edit: false } },
        needs_attention: { type: 'boolean', isVisible: { list: false, filter: true, show: false, edit: false } },
        has_user: { type: 'boolean', isVisible: { list: false, filter: true, show: false, edit: false } },
        email: { isTitle: true, isRequired: true },
        source: { availableValues: SUBSCRIBER_SOURCES.map((value) => ({ value, label: SOURCE_LABELS[value] })) },
        user_id: { reference: 'users' },
        gave_up_at: { components: { list: Components.NeedsAttention } },
        last_error_message: { type: 'textarea' },
        updated_at: { isVisible: false },
      },
      actions: {
        show: { component: Components.SubscriberShow, after: withDeliveries(context) },
        new: { after: auditAfter(context) },
        edit: { after: auditAfter(context) },
        delete: { isAccessible: isSuperuser, after: auditAfter(context) },
        bulkDelete: { isAccessible: isSuperuser, after: auditAfter(context) },
        ...subscriberActions(context),
        ...dataActions(context),
      },
    },
  };
}

/** Import, Export and the personal-data actions, with the deletions audited and limited to superusers. */
function dataActions(context: AppContext): Record<string, Partial<Action<ActionResponse>>> {
  const actions = subscriberDataActions(context, {
    components: { import: Components.SubscriberImport, export: Components.SubscriberExport, personalData: Components.PersonalDataExport },
    canDelete: (currentAdmin) => Boolean((currentAdmin as { isSuperuser?: boolean } | undefined)?.isSuperuser),
  });
  const auditedDelete = (action: typeof actions.deletePersonalData) => ({ ...action, handler: audited(context, action.handler as unknown as ActionHandler<ActionResponse>) });

  return {
    ...actions,
    importSubscribers: { ...actions.importSubscribers, after: auditAfter(context) },
    deletePersonalData: auditedDelete(actions.deletePersonalData),
    deletePersonalDataWithAccount: auditedDelete(actions.deletePersonalDataWithAccount),
  } as unknown as Record<string, Partial<Action<ActionResponse>>>;
}

/** Adds the subscriber's email deliveries, newest first, to the show page's record. */
function withDeliveries(context: AppContext) {
  return async (response: ActionResponse) => {
    const id = response.record?.id;
    if (!id) return response;

    const deliveries = await context.models.EmailDelivery.findAll({ where: { subscriber_id: id }, order: [['created_at', 'DESC'], ['id', 'DESC']], limit: 100, raw: true });
    response.record.params.deliveries = deliveries;
    return response;
  };
}

