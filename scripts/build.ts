// npm run build: compiles the TypeScript into dist/ and copies beside it the files the code reads at run time,
// so that `NODE_ENV=production node bin/waitlist.js` runs from dist/ and node_modules alone.
//   tsx scripts/build.ts [--out-dir <folder>]     (default: dist)
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BuildOptions {
  /** Absolute folder that receives the build; it is emptied first. */
  outDir: string;
  /** Leaves out the line per step on stdout. */
  quiet?: boolean;
}

type BuildStep = { name: string; run: (options: BuildOptions) => Promise<void> | void };

/** The build, in order. A step that prepares more run-time files (such as pre-bundled admin assets) joins this list. */
export const BUILD_STEPS: BuildStep[] = [
  // A migration deleted from the sources must not survive as stale compiled code, or it would still be applied.
  { name: 'clean', run: ({ outDir }) => rmSync(outDir, { recursive: true, force: true }) },
  { name: 'compile TypeScript', run: compile },
  { name: 'copy views', run: ({ outDir }) => cpSync(path.join(ROOT, 'views'), path.join(outDir, 'views'), { recursive: true }) },
  // tsc leaves .jsx alone, and AdminJS bundles the admin panel's React components from these source files.
  { name: 'copy admin components', run: ({ outDir }) => cpSync(path.join(ROOT, 'admin', 'components'), path.join(outDir, 'admin', 'components'), { recursive: true }) },
  { name: 'write package.json', run: writePackageJson },
  { name: 'bundle admin components', run: bundleAdminComponents },
];

/** Runs every build step into `options.outDir`. */
export async function build(options: BuildOptions): Promise<void> {
  for (const step of BUILD_STEPS) {
    const startedAt = Date.now();
    await step.run(options);
    if (!options.quiet) process.stdout.write(`build: ${step.name} (${Date.now() - startedAt} ms)\n`);
  }
}

async function compile({ outDir }: BuildOptions): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiler = spawn(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit', cwd: ROOT });

  const code = await new Promise<number | null>((resolve) => compiler.on('exit', resolve));
  if (code !== 0) throw new Error(`tsc failed with exit code ${code}: fix the type errors it printed above`);
}

/** Bundles the admin panel's React components into dist/.adminjs, where a production start serves them from. */
async function bundleAdminComponents({ outDir }: BuildOptions): Promise<void> {
  const tsx = import.meta.resolve('tsx');
  const script = path.join(ROOT, 'scripts', 'bundle-admin.ts');
  const bundler = spawn(process.execPath, ['--import', tsx, script], {
    stdio: 'inherit',
    cwd: ROOT,
    env: { ...process.env, ADMIN_JS_TMP_DIR: path.join(outDir, '.adminjs') },
  });

  const code = await new Promise<number | null>((resolve) => bundler.on('exit', resolve));
  if (code !== 0) throw new Error(`bundling the admin components failed with exit code ${code}: see the errors printed above`);
}

/**
 * Writes dist/package.json. Its "type" makes the compiled files ES modules, and its presence makes dist/ the
 * project root that the code resolves views/ against, so the copied views are the ones used.
 */
function writePackageJson({ outDir }: BuildOptions): void {
  const source = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const manifest = { name: source.name, version: source.version, private: true, type: 'module' };
  writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function readOutDir(argv: string[]): string {
  const index = argv.indexOf('--out-dir');
  if (index === -1) return path.join(ROOT, 'dist');

  const value = argv[index + 1];
  if (!value || value.startsWith('--')) throw new Error('--out-dir needs a folder, such as --out-dir /tmp/waitlist-dist');
  return path.resolve(value);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    await build({ outDir: readOutDir(process.argv.slice(2)) });
  } catch (error) {
    process.stderr.write(`build failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
