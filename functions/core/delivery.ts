/**
 * What a channel handler does after each provider call, pure: the backoff, and what an unknown outcome
 * means per channel. Kept apart from the handler so every branch is tested without a queue or a store.
 */
import type { Channel } from '../../schemas/alert';
import type { UnknownOutcomePolicy } from '../channels/definition';
import { CHANNEL_LIST } from '../channels/list';
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

export type { UnknownOutcomePolicy };

/** Each channel's answer to an unknown outcome: its definition's (functions/channels/definition.ts says why). */
export const UNKNOWN_OUTCOME_POLICY = Object.fromEntries(
  CHANNEL_LIST.map((c) => [c.name, c.unknownOutcome]),
) as Record<Channel, UnknownOutcomePolicy>;

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
