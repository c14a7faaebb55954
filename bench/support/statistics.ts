/** Returns the nearest-rank percentile (0 to 100) of `values`, or 0 for an empty list. */
export function percentile(values: number[], rank: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Rounds to `digits` decimal places, for printed and JSON figures. */
export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function megabytes(bytes: number): number {
  return round(bytes / (1024 * 1024), 1);
}
