/**
 * Which of the agency's posts on a channel are worth polling for replies: those of alerts that are still live (not
 * cancelled, not expired) and whose newest post on the channel went out within the watch window. Found by reading
 * what the store already keeps, newest alerts first, and never by a scan:
 *
 * - alerts come from the alert listing (the ALERTS index, newest first), which stops at the provider's search
 *   window (7 days for X's recent search: an older conversation cannot be searched at all);
 * - an alert's posts are its receipts on the channel, one version at a time (the receipt key starts with the
 *   version and the channel, so each read is a Query on a key prefix that returns only those few receipts, never
 *   the alert's thousands of SMS and email receipts).
 */
import type { Channel } from '../../schemas/alert';
import type { AlertStore, BulkStore } from '../ports';

export interface LivePost {
  alertId: string;
  postId: string;
  /** The account it was posted as (the receipt's recipient). */
  account: string;
  /** When its receipt last changed: when it was sent. */
  sentAt: string;
}

export interface LivePostOptions {
  channel: Channel;
  now: Date;
  /** An alert is watched while its newest post on the channel is younger than this. */
  watchHours: number;
  /** The provider cannot search further back than this (X recent search: 7 days). */
  searchWindowHours: number;
  /**
   * Ended alerts too (cancelled, or past their expiry). Replies want live alerts only (nobody is helped by a tip on an
   * ended one); engagement is counted for a week whatever became of the alert.
   */
  includeEnded?: boolean | undefined;
  /** Alerts read per listing page, and at most this many pages per run. */
  pageSize?: number | undefined;
  maxPages?: number | undefined;
}

const HOUR_MS = 3_600_000;
/**
 * A version's posts normally go out within minutes of the head's last change; this much later (retries backed off
 * by the provider, a dead-letter redrive) is still looked at. Alerts whose head is older are not read further.
 */
const LATE_POST_HOURS = 24;

export async function findLivePosts(
  store: Pick<AlertStore, 'listAlerts'> & Pick<BulkStore, 'listReceiptsPage'>,
  options: LivePostOptions,
): Promise<LivePost[]> {
  const now = options.now.getTime();
  const oldestAlert = new Date(now - options.searchWindowHours * HOUR_MS).toISOString();
  const oldestPost = new Date(now - options.watchHours * HOUR_MS).toISOString();
  const oldestHead = new Date(now - (options.watchHours + LATE_POST_HOURS) * HOUR_MS).toISOString();
  const pageSize = options.pageSize ?? 25;
  const maxPages = options.maxPages ?? 8;

  const live: LivePost[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const listed = await store.listAlerts({ limit: pageSize, cursor });
    let reachedOld = false;
    for (const { head, latest } of listed.items) {
      if (head.createdAt < oldestAlert) {
        reachedOld = true;
        break;
      }
      if (!options.includeEnded) {
        if (latest.msgType === 'Cancel') continue;
        const expires = latest.content.expires;
        if (expires && Date.parse(expires) <= now) continue;
      }
      if (head.updatedAt < oldestHead) continue;
      const posts = await postsOf(store, head.alertId, head.latestVersion, options.channel);
      // Watched while its newest post is recent; then every post of it is (replies go to the first one most).
      if (posts.some((p) => p.sentAt >= oldestPost)) live.push(...posts);
    }
    cursor = listed.cursor;
    if (reachedOld || !cursor) break;
  }
  return live;
}

async function postsOf(
  store: Pick<BulkStore, 'listReceiptsPage'>,
  alertId: string,
  latestVersion: number,
  channel: Channel,
): Promise<LivePost[]> {
  const posts: LivePost[] = [];
  for (let version = 1; version <= latestVersion; version++) {
    const page = await store.listReceiptsPage(alertId, { version, channel, limit: 25 });
    for (const receipt of page.items) {
      // Only what reached the public: a sandbox's ids name nothing at the provider.
      if (receipt.sandbox || !receipt.providerMessageId) continue;
      if (receipt.status !== 'sent' && receipt.status !== 'delivered') continue;
      posts.push({
        alertId,
        postId: receipt.providerMessageId,
        account: receipt.recipient,
        sentAt: receipt.updatedAt,
      });
    }
  }
  return posts;
}
