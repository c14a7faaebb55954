#!/usr/bin/env node
// Runs the compiled command line from dist/ in production, and the TypeScript sources through tsx otherwise,
// so that `npx waitlist` works right after `npm install` with no build step. This file is CommonJS (see
// bin/package.json) so that it sizes the thread pool before anything starts it.
const { existsSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const path = require('node:path');
const { sizeThreadPool } = require('./thread-pool.js');

// NODE_ENV picks the code to run, so a NODE_ENV set in .env must count here already, as it does for the settings.
if (existsSync('.env')) process.loadEnvFile('.env');
sizeThreadPool();

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'dist/src/cli/main.js');

if (process.env.NODE_ENV === 'production') {
  if (!existsSync(compiled)) {
    process.stderr.write('waitlist: NODE_ENV=production runs the compiled code, and dist/ is missing: run "npm run build" first.\n');
    process.exit(2);
  }
  import(pathToFileURL(compiled).href);
} else {
  runSources();
}

async function runSources() {
  const { register } = await import('tsx/esm/api').catch((error) => {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write('waitlist: running the TypeScript sources needs the dev dependencies (tsx): run "npm install", or build with "npm run build" and set NODE_ENV=production.\n');
    process.exit(2);
  });
  register();
  await import(pathToFileURL(path.join(root, 'src/cli/main.ts')).href);
}
