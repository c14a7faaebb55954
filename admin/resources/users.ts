import { ValidationError, type ActionContext, type ActionRequest, type ActionResponse, type ResourceWithOptions } from 'adminjs';
import { Op } from 'sequelize';
import type { AppContext } from '../../src/context.ts';
import { resetPasswordAction } from '../actions/credential-actions.ts';
import { auditAfter } from '../audit.ts';
import { Components } from '../components.ts';
import { containsText, FilteredResource } from '../filtered-resource.ts';
import { isSuperuser } from '../staff-session.ts';

const SEARCHED_COLUMNS = ['username', 'email', 'first_name', 'last_name'];
const STAFF_FLAGS = ['is_staff', 'is_superuser'];

/** Users: no password field (the hash never leaves the server); a reset action emails new credentials instead. */
export function userResource(context: AppContext): ResourceWithOptions {
  const resource = new FilteredResource(context.models.User, {
    filterable: ['is_verified', 'is_staff', 'must_change_password', 'is_active', 'username', 'email'],
    sortable: ['username', 'email', 'first_name', 'last_name', 'is_verified', 'is_staff', 'must_change_password', 'date_joined', 'last_login', 'id'],
    defaultSort: 'date_joined',
    editable: ['username', 'email', 'first_name', 'last_name', 'phone_number', 'is_active', 'is_verified', 'must_change_password', ...STAFF_FLAGS],
    hidden: ['password_hash'],
    duplicateMessage: { field: 'email', message: 'Another account has this username or email address already.' },
    virtualFilters: {
      search: (text) => ({ [Op.or]: SEARCHED_COLUMNS.map((column) => containsText(column, text.trim())) }),
    },
  });

  return {
    resource,
    options: {
      id: 'users',
      navigation: { name: 'Accounts', icon: 'User' },
      sort: { sortBy: 'date_joined', direction: 'desc' },
      titleProperty: 'username',
      listProperties: ['username', 'email', 'first_name', 'last_name', 'is_verified', 'is_staff', 'must_change_password', 'date_joined'],
      filterProperties: ['search', 'is_verified', 'is_staff', 'must_change_password', 'is_active'],
      showProperties: ['username', 'email', 'first_name', 'last_name', 'phone_number', 'subscriber_id', 'is_active', 'is_verified', 'is_staff', 'is_superuser', 'must_change_password', 'password_expires_at', 'last_login', 'date_joined'],
      editProperties: ['username', 'email', 'first_name', 'last_name', 'phone_number', 'is_active', 'is_verified', 'must_change_password', ...STAFF_FLAGS],
      properties: {
        search: { type: 'string', isVisible: { list: false, filter: true, show: false, edit: false } },
        subscriber_id: { isVisible: { list: false, filter: false, show: true, edit: false }, components: { show: Components.SubscriberLink } },
        updated_at: { isVisible: false },
        username: { isTitle: true },
      },
      actions: {
        new: { isAccessible: false },
        show: { after: withSubscriberLink(context) },
        edit: { before: guardStaffFlags, after: auditAfter(context) },
        delete: { isAccessible: isSuperuser, after: auditAfter(context) },
        bulkDelete: { isAccessible: isSuperuser, after: auditAfter(context) },
        resetPassword: resetPasswordAction(context),
      },
    },
  };
}

/** Lets only superusers change staff flags; anyone else gets the reason on the field. */
async function guardStaffFlags(request: ActionRequest, actionContext: ActionContext): Promise<ActionRequest> {
  if (request.method !== 'post' || isSuperuser(actionContext)) return request;

  const current = actionContext.record?.params ?? {};
  const errors: Record<string, { message: string }> = {};
  for (const flag of STAFF_FLAGS) {
    const requested = request.payload?.[flag];
    if (requested !== undefined && String(requested) !== String(current[flag])) {
      errors[flag] = { message: 'Only superusers can change staff flags.' };
    }
  }

  if (Object.keys(errors).length > 0) throw new ValidationError(errors, { message: 'Only superusers can change staff flags.', type: 'error' });
  return request;
}

/** Adds the waitlist subscriber the account came from, for the link back on the show page. */
function withSubscriberLink(context: AppContext) {
  return async (response: ActionResponse) => {
    const id = response.record?.id;
    if (!id) return response;

    const subscriber = await context.models.WaitlistSubscriber.findOne({ where: { user_id: id }, attributes: ['id', 'email'], order: [['id', 'ASC']] });
    response.record.params.subscriber_id = subscriber?.id ?? null;
    response.record.params.subscriber_email = subscriber?.email ?? null;
    return response;
  };
}
