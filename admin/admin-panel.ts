import './environment.ts';
import AdminJS, { type AdminJSOptions } from 'adminjs';
import { Database, Resource } from '@adminjs/sequelize';
import type { AppContext } from '../src/context.ts';
import { componentLoader, Components } from './components.ts';
import { loadDashboard } from './dashboard.ts';
import { subscriberResource } from './resources/subscribers.ts';
import { userResource } from './resources/users.ts';
import { auditResource, deliveryResource, processorSettingsResource } from './resources/read-only.ts';

AdminJS.registerAdapter({ Database, Resource });

/** URL path of the panel. */
export const ADMIN_ROOT = '/admin';

/** Builds the AdminJS instance: resources, dashboard, labels and branding. */
export function createAdminPanel(context: AppContext): AdminJS {
  const options: AdminJSOptions = {
    rootPath: ADMIN_ROOT,
    loginPath: `${ADMIN_ROOT}/login`,
    logoutPath: `${ADMIN_ROOT}/logout`,
    componentLoader,
    resources: [subscriberResource(context), userResource(context), deliveryResource(context), auditResource(context), processorSettingsResource(context)],
    dashboard: { component: Components.Dashboard, handler: async () => loadDashboard(context) },
    settings: { defaultPerPage: 50 },
    branding: { companyName: `${context.config.email.siteName} admin`, withMadeWithLove: false, logo: false },
    locale: { language: 'en', availableLanguages: ['en'], translations: { en: translations } },
  };
  return new AdminJS(options);
}

/** Labels in the glossary's words; AdminJS falls back to the column names for the rest. */
const translations = {
  components: {
    Login: {
      welcomeHeader: 'Waitlist admin',
      welcomeMessage: 'Operators of the waitlist sign in here with a staff account.',
    },
  },
  labels: {
    waitlist_subscribers: 'Waitlist subscribers',
    users: 'Users',
    email_deliveries: 'Email deliveries',
    admin_audit_entries: 'Audit trail',
  },
  actions: {
    processNow: 'Process now',
    resendWelcome: 'Re-send welcome email',
    retry: 'Retry',
    retrySelected: 'Retry selected',
    markProcessed: 'Mark as processed',
    markUnprocessed: 'Mark as unprocessed',
    processSelected: 'Process selected now',
    processPending: 'Process pending now',
    resetPassword: 'Reset password and send credentials',
    importSubscribers: 'Import',
    exportSubscribers: 'Export',
    exportPersonalData: 'Export personal data',
    deletePersonalData: 'Delete personal data',
    deletePersonalDataWithAccount: 'Delete personal data and account',
  },
  properties: {
    is_processed: 'Processed',
    processed_at: 'Processed at',
    created_at: 'Created',
    user_id: 'Linked user',
    gave_up_at: 'Needs attention',
    search: 'Search (email or name)',
    needs_attention: 'Needs attention',
    has_user: 'Has a linked user',
    phone_number: 'Phone',
    first_name: 'First name',
    last_name: 'Last name',
    last_error_code: 'Last error',
    last_error_message: 'Last error message',
    next_attempt_at: 'Next attempt',
    is_verified: 'Verified',
    is_staff: 'Staff',
    is_superuser: 'Superuser',
    is_active: 'Active',
    must_change_password: 'Must change password',
    password_expires_at: 'Temporary password expires',
    smtp_response: 'Server response',
    error_code: 'Error',
    error_message: 'Error message',
    staff_email: 'Staff member',
    record_ids: 'Records',
  },
  messages: {
    loginWelcome: 'Operators of the waitlist sign in here with a staff account.',
  },
};
