import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { build } from '../../scripts/build.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * Builds the service into `folder` laid out as a production install: package.json, bin/, dist/ and a node_modules
 * that links only the packages `npm ci --omit=dev --omit=optional` would install. Code in dist/ that needed
 * TypeScript tooling (tsx, typescript) or the embedded PostgreSQL would fail to load there.
 * Returns the path of bin/waitlist.js in that folder.
 */
export async function installProductionBuild(folder: string): Promise<string> {
  await build({ outDir: path.join(folder, 'dist'), quiet: true });

  mkdirSync(path.join(folder, 'bin'), { recursive: true });
  // The launcher is CommonJS, so it needs bin/package.json, which marks it as such, and the thread pool module it loads.
  for (const file of ['waitlist.js', 'thread-pool.js', 'package.json']) copyFileSync(path.join(ROOT, 'bin', file), path.join(folder, 'bin', file));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(folder, 'package.json'));
  linkProductionPackages(path.join(folder, 'node_modules'));

  return path.join(folder, 'bin', 'waitlist.js');
}

/** Links each top-level package of the lock file that is neither a dev dependency nor optional. */
function linkProductionPackages(target: string) {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
  };

  for (const [location, entry] of Object.entries(lock.packages)) {
    const name = location.replace(/^node_modules\//, '');
    const topLevel = location.startsWith('node_modules/') && !name.includes('/node_modules/');
    if (!topLevel || entry.dev || entry.optional || entry.devOptional) continue;

    const link = path.join(target, name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules', name), link, 'dir');
  }
}
