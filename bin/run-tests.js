#!/usr/bin/env node
// npm test: runs scripts/run-tests.ts through tsx, so the test runner needs no build step either.
const path = require('node:path');
const { pathToFileURL } = require('node:url');

import('tsx/esm/api').then(({ register }) => {
  register();
  return import(pathToFileURL(path.join(__dirname, '../scripts/run-tests.ts')).href);
});
