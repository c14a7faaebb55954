import { InvalidArgumentError } from 'commander';

/** Parses an option that must be a whole number of 1 or more. */
export function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return parsed;
}

/**
 * Returns a benchmark command's action: it runs `main` and sets the exit code it returns. A failure prints
 * `name: message` and exits with 1, without a stack trace, since the message names what went wrong.
 */
export function benchmarkAction<Options>(name: string, main: (options: Options) => Promise<number>) {
  return async (options: Options) => {
    process.exitCode = await main(options).catch((error: Error) => {
      process.stderr.write(`${name}: ${error.message}\n`);
      return 1;
    });
  };
}

/** Prints a progress line on standard error, unless the command prints JSON. */
export function progress(options: { json?: boolean }, message: string) {
  if (!options.json) process.stderr.write(`${message}...\n`);
}
