/**
 * What a channel handler does after each provider call, pure: the backoff, and what an unknown outcome
 * means per channel. Kept apart from the handler so every branch is tested without a queue or a store.
 */
import type { Channel } from '../../schemas/alert';
import { ProviderError } from '../ports';

/** SQS caps a message's visibility at 12 hours; a retry further out than 15 minutes helps nobody at 3 a.m. */
export const MAX_RETRY_DELAY_MS = 15 * 60 * 1000;

/**
 * Exponential backoff with full jitter (base · 2^(attempt-1), randomised), never sooner than the provider's
 * retry-after. `random` is injectable so tests can pin it.
 */
export function retryDelayMs(
  attempt: number,
  options: { baseMs: number; retryAfterMs?: number | undefined; random?: () => number },
): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  // The cap bounds the backoff, not the provider's retry-after: retrying before it only earns another 429.
  return Math.max(jittered, options.retryAfterMs ?? 0);
}

/**
 * What to do when an earlier attempt's outcome was lost and the provider cannot be asked:
 * - `retry`: post again (at-least-once) — for channels where a rare duplicate beats a silent gap;
 * - `mark-unknown`: record `unknown` and stop (at-most-once) — for public posts, where a duplicate on the
 *   agency's timeline costs trust. The count of unknowns shows in the delivery totals for a person to check.
 */
export type UnknownOutcomePolicy = 'retry' | 'mark-unknown';

export const UNKNOWN_OUTCOME_POLICY: Record<Channel, UnknownOutcomePolicy> = {
  x: 'mark-unknown',
  facebook: 'mark-unknown',
  instagram: 'mark-unknown',
  sms: 'retry',
  email: 'retry',
  webhook: 'retry',
};

/** Anything a provider throws that is not a classified ProviderError is treated as an unknown outcome. */
export function classifyFailure(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
    return new ProviderError('unknown-outcome', 'the provider did not answer in time');
  return new ProviderError(
    'unknown-outcome',
    `the provider call failed: ${error instanceof Error ? error.message : String(error)}`,
  );
}
