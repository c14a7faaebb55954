#!/usr/bin/env node
// Runs the compiled command line from dist/ in production, and the TypeScript sources through tsx otherwise,
// so that `npx waitlist` works right after `npm install` with no build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

// NODE_ENV picks the code to run, so a NODE_ENV set in .env must count here already, as it does for the settings.
if (existsSync('.env')) process.loadEnvFile('.env');

if (process.env.NODE_ENV === 'production') {
  if (!existsSync(compiled)) {
    process.stderr.write('waitlist: NODE_ENV=production runs the compiled code, and dist/ is missing: run "npm run build" first.\n');
    process.exit(2);
  }
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api').catch((error) => {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write('waitlist: running the TypeScript sources needs the dev dependencies (tsx): run "npm install", or build with "npm run build" and set NODE_ENV=production.\n');
    process.exit(2);
  });
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
