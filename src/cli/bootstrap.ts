import { ConfigError, loadConfig, type Config } from '../config.ts';
import { closeContext, createContext, type AppContext } from '../context.ts';
import { createLogger, toError } from '../logger.ts';

/** Exit status for a bad configuration or command line, as distinct from a failed run (1). */
export const EXIT_USAGE = 2;

/**
 * Reads the configuration, builds the context, runs `work` and closes everything, whatever happens.
 * Commands that write data to standard output pass `logStream: process.stderr` to keep log lines out of it.
 */
export async function withContext(
  work: (context: AppContext) => Promise<number | void>,
  adjust?: (config: Config) => Config,
  logStream: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let config: Config;
  try {
    config = adjust ? adjust(loadConfig()) : loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }

  let context: AppContext;
  try {
    context = await createContext(config, logStream === process.stdout ? {} : { logger: createLogger(config, logStream) });
  } catch (error) {
    process.stderr.write(`waitlist: ${toError(error).message}\n`);
    return 1;
  }

  try {
    return (await work(context)) ?? 0;
  } catch (error) {
    const failure = toError(error) as Error & { code?: string };
    context.logger.error({ code: failure.code, err: failure }, failure.message);
    return 1;
  } finally {
    await closeContext(context).catch(() => undefined);
  }
}

/** Resolves when the process receives SIGINT or SIGTERM, with the signal's name. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
