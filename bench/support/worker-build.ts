import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../../src/config.ts';

/**
 * Bundles a benchmark worker with the service code it imports into one JavaScript file and returns its path.
 * Production runs compiled code with plain node. Under tsx the loader runs on a thread of its own with a second
 * JavaScript heap (about 35 MB more resident memory here), so a worker run through tsx would overstate the memory.
 * The file goes under node_modules/.cache so that its imports of packages resolve from the project.
 */
export async function buildWorker(entry: string): Promise<string> {
  const outfile = path.join(projectRoot(), 'node_modules', '.cache', 'waitlist-bench', path.basename(entry).replace(/\.ts$/, '.mjs'));
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
  return outfile;
}
