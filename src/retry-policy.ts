import type { Config } from './config.ts';
import type { SendFailure } from './mail/send-errors.ts';

/** Next step for a subscriber after a failed attempt. */
export type RetryDecision = { giveUp: true } | { giveUp: false; nextAttemptAt: Date };

/**
 * Decides between another attempt and giving up. Temporary failures wait base * 2^(attempt - 1) seconds,
 * capped at the maximum, until `maxAttempts` attempts have failed; a permanent failure gives up at once.
 */
export function decideRetry(
  failure: Pick<SendFailure, 'temporary'>,
  attemptsSoFar: number,
  settings: Config['processor'],
  now: Date,
): RetryDecision {
  if (!failure.temporary || attemptsSoFar >= settings.maxAttempts) return { giveUp: true };

  const delaySeconds = Math.min(settings.retryMaxSeconds, settings.retryBaseSeconds * 2 ** (attemptsSoFar - 1));
  return { giveUp: false, nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000) };
}
