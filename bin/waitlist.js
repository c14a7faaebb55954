#!/usr/bin/env node
// Runs the compiled command line from dist/ in production, and the TypeScript sources through tsx otherwise,
// so that `npx waitlist` works right after `npm install` with no build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

if (process.env.NODE_ENV === 'production') {
  if (!existsSync(compiled)) {
    process.stderr.write('waitlist: NODE_ENV=production runs the compiled code, and dist/ is missing: run "npm run build" first.\n');
    process.exit(2);
  }
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
