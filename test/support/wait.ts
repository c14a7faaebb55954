/** Polls `check` every `intervalMs` until it returns a value other than undefined or false, or throws at the deadline. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;

  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    await sleep(intervalMs);
  }
}

/** Waits `ms` milliseconds. Tests use it only to space out actions, never to wait for a result. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded random generator (mulberry32), so that a failing random schedule can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Polls `count` until it reaches `target`, stops growing for `stallMs`, or `abortIf` returns true, and returns
 * the last count, so that a test can go on to report what is wrong instead of failing on a bare timeout.
 */
export async function waitForCount(
  count: () => Promise<number>,
  target: number,
  { stallMs = 15_000, timeoutMs = 150_000, intervalMs = 250, abortIf = async () => false } = {},
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = await count();
  let lastGrowth = Date.now();

  while (last < target && Date.now() < deadline && Date.now() - lastGrowth < stallMs && !(await abortIf())) {
    await sleep(intervalMs);
    const current = await count();
    if (current > last) lastGrowth = Date.now();
    last = current;
  }
  return last;
}
