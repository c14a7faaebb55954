/**
 * Runs `cleanup` and exits with status 130 on SIGINT or SIGTERM, so that an interrupted benchmark still drops its
 * database and stops what it started. Returns a function that removes the handlers once the run ended normally.
 */
export function cleanUpOnInterrupt(cleanup: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: stopping and dropping the benchmark database...\n`);
    cleanup()
      .catch((error: Error) => process.stderr.write(`Cleaning up failed: ${error.message}\n`))
      .finally(() => process.exit(130));
  };

  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
