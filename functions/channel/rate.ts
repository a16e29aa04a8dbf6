/**
 * Pacing for the SMS senders: the account's messages-per-second quota (SNS or End User Messaging) is shared by every
 * sender, so each sends at its share, `smsMessagesPerSecond / smsSenderConcurrency`. Going over earns throttling
 * errors and retries that delay everyone; going evenly keeps every sender at the rate the route allows.
 */

export interface Pacer {
  /** Resolves when the caller may send one message. */
  take(): Promise<void>;
}

/**
 * A token bucket kept as its theoretical arrival time (GCRA): each take reserves the next slot, `1/rate` after the
 * previous one, and waits for it. `burst` slots may be taken back to back after a pause. Concurrent callers on one
 * thread reserve distinct slots, so the rate holds however many await at once.
 */
export class TokenBucket implements Pacer {
  private readonly intervalMs: number;
  private nextSlot = Number.NEGATIVE_INFINITY;

  constructor(
    ratePerSecond: number,
    private readonly burst = 1,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`the rate must be above zero, got ${ratePerSecond}`);
    this.intervalMs = 1000 / ratePerSecond;
  }

  async take(): Promise<void> {
    const now = this.now();
    const slot = Math.max(this.nextSlot, now);
    this.nextSlot = slot + this.intervalMs;
    const wait = slot - now - (this.burst - 1) * this.intervalMs;
    if (wait > 0) await this.sleep(wait);
  }
}

/** No pacing: email and webhooks have no shared per-second quota to respect. */
export const UNPACED: Pacer = { take: async () => undefined };
