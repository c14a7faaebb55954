import path from 'node:path';
import { ComponentLoader } from 'adminjs';
import { projectRoot } from '../src/config.ts';

/**
 * The panel's React components. Paths point at the sources in admin/components, also from the compiled dist/,
 * because AdminJS bundles the sources for the browser (at start in development, by `npm run build` for production).
 */
export const componentLoader = new ComponentLoader();

const folder = path.join(projectRoot(), 'admin', 'components');

export const Components = {
  Dashboard: componentLoader.add('WaitlistDashboard', path.join(folder, 'Dashboard')),
  SubscriberShow: componentLoader.add('SubscriberShow', path.join(folder, 'SubscriberShow')),
  NeedsAttention: componentLoader.add('NeedsAttention', path.join(folder, 'NeedsAttention')),
  SubscriberLink: componentLoader.add('SubscriberLink', path.join(folder, 'SubscriberLink')),
  // Plain JSX files, which tsc does not compile: the build's "copy admin components" step puts them in dist/.
  SubscriberImport: componentLoader.add('SubscriberImport', path.join(folder, 'subscriber-import.jsx')),
  SubscriberExport: componentLoader.add('SubscriberExport', path.join(folder, 'subscriber-export.jsx')),
  PersonalDataExport: componentLoader.add('PersonalDataExport', path.join(folder, 'personal-data-export.jsx')),
};
