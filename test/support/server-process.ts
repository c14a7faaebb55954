import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI_SOURCE = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** tsx's loader by absolute URL, so that processes started in other folders find it. */
export const TSX_LOADER = import.meta.resolve('tsx');

/** A `waitlist serve` process run from the TypeScript sources, with its output kept for assertions. */
export interface ServerProcess {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `waitlist serve` with exactly `environment` (plus PATH and HOME) and resolves with its URL once it
 * logs that it listens. Rejects with the output when the process exits first or after `timeoutMs`.
 * It runs the TypeScript sources, or the `bin/waitlist.js` of a production install when `bin` is given.
 */
export function startServer(environment: Record<string, string>, cwd: string, timeoutMs = 60_000, bin?: string): Promise<ServerProcess> {
  const command = bin ? [bin, 'serve'] : ['--import', TSX_LOADER, CLI_SOURCE, 'serve'];
  const child = spawn(process.execPath, command, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);

    const onData = () => {
      const match = /web app listening[^\n]*?(http:\/\/127\.0\.0\.1:\d+)|"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*web app listening|url: "(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ url: match[1] ?? match[2] ?? match[3], output: () => output, stop: () => stopChild(child) });
    };
    child.stdout!.on('data', onData);

    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`the server exited with ${code} before listening:\n${output}`), { output, code }));
    });
  });
}

/** Runs `waitlist serve` until it exits by itself and returns its exit code and output. */
export function runServerToExit(environment: Record<string, string>, cwd: string, timeoutMs = 60_000, bin?: string): Promise<{ code: number | null; output: string }> {
  return startServer(environment, cwd, timeoutMs, bin).then(
    async (server) => {
      await server.stop();
      throw new Error(`the server started, but it was expected to refuse:\n${server.output()}`);
    },
    (error: Error & { output?: string; code?: number | null }) => {
      if (error.output === undefined) throw error;
      return { code: error.code ?? null, output: error.output };
    },
  );
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
