import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyFailure,
  MAX_RETRY_DELAY_MS,
  retryDelayMs,
  UNKNOWN_OUTCOME_POLICY,
} from '../../functions/core/delivery';
import { ProviderError } from '../../functions/ports';

const BASE = 2000;

describe('retryDelayMs', () => {
  it.each([
    [1, 0, 1000],
    [1, 0.999_999, 2000],
    [2, 0, 2000],
    [3, 0.5, 6000],
    [4, 1, 16_000],
  ])('attempt %i with random() = %f waits %i ms (half the ceiling plus jitter)', (attempt, r, expected) => {
    // Act
    const delay = retryDelayMs(attempt, { baseMs: BASE, random: () => r });

    // Assess
    expect(delay).toBe(expected);
  });

  it('grows with the attempt number for the same jitter', () => {
    // Act
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(a, { baseMs: BASE, random: () => 0.3 }));

    // Assess
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);
  });

  it('stops growing at 15 minutes', () => {
    // Act
    const late = retryDelayMs(40, { baseMs: BASE, random: () => 0.999_999 });

    // Assess
    expect(MAX_RETRY_DELAY_MS).toBe(15 * 60 * 1000);
    expect(late).toBe(MAX_RETRY_DELAY_MS);
  });

  it("waits at least the provider's retry-after, even when the backoff would be shorter", () => {
    // Act
    const delay = retryDelayMs(1, { baseMs: BASE, retryAfterMs: 42_000, random: () => 0 });

    // Assess
    expect(delay).toBe(42_000);
  });

  it('honours a retry-after longer than the backoff cap: retrying sooner only earns another 429', () => {
    // Act
    const delay = retryDelayMs(2, { baseMs: BASE, retryAfterMs: 30 * 60 * 1000, random: () => 0.5 });

    // Assess
    expect(delay).toBe(30 * 60 * 1000);
  });

  it('uses Math.random when no random is given, within the jitter band', () => {
    // Act
    const delays = Array.from({ length: 50 }, () => retryDelayMs(3, { baseMs: BASE }));

    // Assess
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it('holds for any attempt, jitter and retry-after: never below retry-after, never past the cap otherwise', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 12 * 60 * 60 * 1000 }), { nil: undefined }),
        (attempt, r, retryAfterMs) => {
          const delay = retryDelayMs(attempt, { baseMs: BASE, retryAfterMs, random: () => r });
          const ceiling = Math.min(MAX_RETRY_DELAY_MS, BASE * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(retryAfterMs ?? 0);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          expect(delay).toBeLessThanOrEqual(Math.max(ceiling, retryAfterMs ?? 0));
        },
      ),
    );
  });
});

describe('classifyFailure', () => {
  it('keeps a ProviderError as the provider classified it', () => {
    // Prepare
    const error = new ProviderError('retryable', '503 Service Unavailable', 5000);

    // Act
    const failure = classifyFailure(error);

    // Assess
    expect(failure).toBe(error);
  });

  it('reads the timeout of AbortSignal.timeout as an unknown outcome', async () => {
    // Prepare
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));

    // Act
    const failure = classifyFailure(signal.reason);

    // Assess
    expect(failure).toMatchObject({ kind: 'unknown-outcome', reason: 'the provider did not answer in time' });
  });

  it('reads an abort as an unknown outcome', () => {
    // Prepare
    const controller = new AbortController();
    controller.abort();

    // Act
    const failure = classifyFailure(controller.signal.reason);

    // Assess
    expect(failure.kind).toBe('unknown-outcome');
    expect(failure.reason).toBe('the provider did not answer in time');
  });

  it.each([
    [new Error('socket hang up'), 'the provider call failed: socket hang up'],
    [new TypeError('fetch failed'), 'the provider call failed: fetch failed'],
    ['ECONNRESET', 'the provider call failed: ECONNRESET'],
    [undefined, 'the provider call failed: undefined'],
  ])('reads anything else (%s) as an unknown outcome, keeping its message', (thrown, reason) => {
    // Act
    const failure = classifyFailure(thrown);

    // Assess
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ kind: 'unknown-outcome', reason });
  });
});

describe('UNKNOWN_OUTCOME_POLICY', () => {
  it.each([
    ['x', 'mark-unknown'],
    ['facebook', 'mark-unknown'],
    ['instagram', 'mark-unknown'],
    ['sms', 'retry'],
    ['email', 'retry'],
    ['webhook', 'retry'],
  ] as const)('%s: %s', (channel, policy) => {
    expect(UNKNOWN_OUTCOME_POLICY[channel]).toBe(policy);
  });
});
