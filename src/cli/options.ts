import { InvalidArgumentError } from 'commander';

/** Returns a commander parser that accepts whole numbers from `min` to `max` and explains any other value. */
export function wholeNumber(option: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${option} takes a whole number from ${min} to ${max}, such as ${Math.max(min, Math.min(max, 10))}; got "${value}".`);
    }
    return parsed;
  };
}
