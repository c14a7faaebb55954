// Imported before adminjs anywhere: AdminJS reads ADMIN_JS_TMP_DIR once, when it loads, and serves the production
// components bundle from that folder relative to the working directory. An absolute path keeps it working when the
// service starts from another folder.
import path from 'node:path';
import { projectRoot } from '../src/config.ts';

process.env.ADMIN_JS_TMP_DIR ??= path.join(projectRoot(), '.adminjs');

// NOTE: in development AdminJS bundles the components on the first request for them, and its bundler resolves
// Babel plugins from the working folder, so a development server must start in the project folder (npm start does).

/** The components bundle that `npm run build` writes and production serves. */
export const COMPONENTS_BUNDLE = path.join(process.env.ADMIN_JS_TMP_DIR, 'bundle.js');
