/**
 * Meta's side of the replies path: checking that a webhook delivery really comes from Meta, and reading the
 * comments out of it. Facebook Page comments arrive as `feed` changes (item `comment`), Instagram comments as
 * `comments` changes; each becomes one SocialReply whose `inReplyTo` is the id Herald stored as the post's
 * providerMessageId (functions/channels/facebook/client.ts and ../instagram/client.ts), so the tip finds its alert.
 *
 * Why webhooks and not polling for Meta: Meta pushes every comment within seconds, retries a delivery the
 * endpoint did not accept, and polling `/{post}/comments` per live post would spend the Page's Graph rate limit
 * that posting alerts needs.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Channel } from '../../../schemas/alert';
import { InstagramCommentValue, type MetaWebhookDelivery, PageCommentValue } from '../../../schemas/replies';
import type { SocialReply } from '../../ports';

/** The secret keys the webhook reads, in the `facebook` and `instagram` secrets. */
export const META_WEBHOOK_KEYS = {
  /** The Meta app's secret: Meta signs every delivery with it (X-Hub-Signature-256). */
  appSecret: 'appSecret',
  /** The token typed in the app dashboard beside the callback URL; Meta echoes it in the GET handshake. */
  verifyToken: 'webhookVerifyToken',
} as const;

export const SIGNATURE_HEADER = 'x-hub-signature-256';
const SIGNATURE_PREFIX = 'sha256=';

/**
 * Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of the raw body under one of `appSecrets`. The body must be
 * the bytes as they arrived: Meta signs its own serialisation (escaped Unicode included), which a parse and
 * re-stringify would not reproduce. Compared in constant time, so the answer's timing tells nothing of the digest.
 */
export function verifyMetaSignature(
  rawBody: Uint8Array,
  header: string | undefined,
  appSecrets: readonly string[],
): boolean {
  if (!header?.toLowerCase().startsWith(SIGNATURE_PREFIX)) return false;
  const hex = header.slice(SIGNATURE_PREFIX.length).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  let ok = false;
  // Every secret is tried (no early exit), so how many are configured, or which matched, does not show in the timing.
  for (const secret of appSecrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

/** Constant-time equality of two strings of any length (both are hashed first, so lengths do not leak). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The agency's own accounts, whose comments are Herald's (updates are comments on Facebook) or staff's. */
export interface MetaAccounts {
  pageId?: string | undefined;
  igUserId?: string | undefined;
}

export interface ParsedDelivery {
  replies: SocialReply[];
  /** Why each other change was passed over, for the log (no text, no author). */
  ignored: string[];
}

const str = (value: string | number | undefined) => (value === undefined ? undefined : String(value));

/** Epoch seconds or milliseconds (Meta uses both) to ISO 8601; `fallback` when absent. */
function isoFrom(epoch: number | undefined, fallback: Date): string {
  if (epoch === undefined || !Number.isFinite(epoch) || epoch <= 0) return fallback.toISOString();
  return new Date(epoch > 1e12 ? epoch : epoch * 1000).toISOString();
}

function pageComment(
  value: unknown,
  entryId: string,
  accounts: MetaAccounts,
  now: Date,
): SocialReply | string {
  const parsed = PageCommentValue.safeParse(value);
  if (!parsed.success) return 'feed change that is not a comment';
  const c = parsed.data;
  if (c.verb !== 'add') return `comment ${c.verb}`;
  const authorId = str(c.from?.id);
  // The Page's own comments: Herald posts every update as a comment on the alert's post.
  if (authorId !== undefined && (authorId === entryId || authorId === accounts.pageId))
    return "the page's own comment";
  const text = c.message?.trim() ?? '';
  if (!text) return 'comment without text (a sticker or a photo)';
  return {
    channel: 'facebook',
    externalId: String(c.comment_id),
    inReplyTo: String(c.post_id),
    author: c.from?.name?.trim() || 'Facebook user',
    text,
    at: isoFrom(c.created_time, now),
  };
}

function instagramComment(
  value: unknown,
  entryId: string,
  entryTime: number | undefined,
  accounts: MetaAccounts,
  now: Date,
): SocialReply | string {
  const parsed = InstagramCommentValue.safeParse(value);
  if (!parsed.success) return 'comments change without a comment';
  const c = parsed.data;
  const authorId = str(c.from?.id);
  if (authorId !== undefined && (authorId === entryId || authorId === accounts.igUserId))
    return "the account's own comment";
  const text = c.text?.trim() ?? '';
  if (!text) return 'comment without text';
  const username = c.from?.username?.trim();
  return {
    channel: 'instagram',
    externalId: String(c.id),
    // The IG media id: what media_publish answered, Herald's providerMessageId for the post.
    inReplyTo: String(c.media.id),
    author: username ? `@${username}` : 'Instagram user',
    text,
    // The comments field carries no creation time; the delivery's is within seconds of it.
    at: isoFrom(entryTime, now),
  };
}

/**
 * The new comments by others in one delivery, each as a SocialReply. Changes of any other kind (reactions, posts,
 * edits, removals, mentions, live comments) are named in `ignored` and otherwise left alone: they are acknowledged
 * to Meta all the same, so it does not retry them.
 */
export function parseMetaDelivery(
  delivery: MetaWebhookDelivery,
  accounts: MetaAccounts,
  now: Date,
): ParsedDelivery {
  const out: ParsedDelivery = { replies: [], ignored: [] };
  const product: Record<string, { field: string; channel: Channel }> = {
    page: { field: 'feed', channel: 'facebook' },
    instagram: { field: 'comments', channel: 'instagram' },
  };
  const expected = product[delivery.object];
  for (const entry of delivery.entry) {
    const entryId = String(entry.id);
    for (const change of entry.changes ?? []) {
      if (!expected || change.field !== expected.field) {
        out.ignored.push(`${delivery.object} ${change.field}`);
        continue;
      }
      const result =
        expected.channel === 'facebook'
          ? pageComment(change.value, entryId, accounts, now)
          : instagramComment(change.value, entryId, entry.time, accounts, now);
      if (typeof result === 'string') out.ignored.push(result);
      else out.replies.push(result);
    }
  }
  return out;
}
