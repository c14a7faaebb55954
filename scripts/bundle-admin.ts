// `npm run build`, second step: bundles the admin panel's React components for production, so that a production
// start serves the file instead of bundling at start. AdminJS bundles only with NODE_ENV=production, and it reads
// that and ADMIN_JS_TMP_DIR when it loads, so both are set before the dynamic imports below.
import { statSync } from 'node:fs';
import { projectRoot } from '../src/config.ts';

// AdminJS's bundler resolves its Babel plugins from the working folder.
process.chdir(projectRoot());
process.env.NODE_ENV = 'production';
delete process.env.ADMIN_JS_SKIP_BUNDLE;

const { COMPONENTS_BUNDLE } = await import('../admin/environment.ts');
const { default: AdminJS } = await import('adminjs');
const { componentLoader } = await import('../admin/components.ts');
const { ADMIN_ROOT } = await import('../admin/admin-panel.ts');

const admin = new AdminJS({ rootPath: ADMIN_ROOT, componentLoader });
await admin.initialize();

process.stdout.write(`Admin components bundled: ${COMPONENTS_BUNDLE} (${Math.round(statSync(COMPONENTS_BUNDLE).size / 1024)} KiB)\n`);
