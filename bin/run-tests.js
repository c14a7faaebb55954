#!/usr/bin/env node
// npm test: runs scripts/run-tests.ts through tsx, so the test runner needs no build step either.
const { register } = await import('tsx/esm/api');
register();
await import(new URL('../scripts/run-tests.ts', import.meta.url).href);
