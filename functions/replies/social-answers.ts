/**
 * Officers' public answers on Mastodon, Bluesky, Threads and Telegram (./answers.ts posts and settles them): one
 * PublicReplyPoster over each network's own client (functions/channels/<network>/client.ts), which posts the answer
 * as a reply to the resident's reply, the tip's externalId (./network-sources.ts and ./telegram-poller.ts write it in
 * the form the client replies to), marked `answer` so that it never goes out on its own if that reply is gone.
 *
 * Whether an answer whose outcome was lost went out (`find`), network by network:
 *
 *   Mastodon  the client sends the answer's key as `Idempotency-Key`, and the instance answers a repeat within the
 *             hour with the status it made. A lost answer is retried by the client's own classification (retryable);
 *             after a lost claim (a crash between the call and the settle), `find` posts again with the same key while
 *             the hour lasts (less a margin): the instance answers the status it made, or makes it now, once. Past
 *             that, it cannot say, and a person checks (OUTCOME_UNKNOWN).
 *   Bluesky   the record key is derived from the answer's key, so the client reads it back (getRecord): found is the
 *             answer, not found proves none was posted (a late create would be refused by the same key).
 *   Threads   the agency's own replies under the resident's reply, first page, newest first: one with the answer's
 *             text is it; none found proves nothing (a publish may land late), so it is OUTCOME_UNKNOWN.
 *   Telegram  the Bot API has no key and no lookup: an unknown outcome is OUTCOME_UNKNOWN, as on X.
 */
import { createBlueskyClient } from '../channels/bluesky/client';
import { createMastodonClient } from '../channels/mastodon/client';
import type { SocialClient, SocialPost } from '../channels/social';
import { createTelegramClient } from '../channels/telegram/client';
import { createThreadsClient } from '../channels/threads/client';
import { createThreadsReplyReader } from '../channels/threads/replies';
import type { Clock, SecretSource } from '../ports';
import { systemClock } from '../ports';
import type { LoggerLike } from '../shared/logger';
import type { AnswerChannel, PublicReplyPoster, ReplyRequest } from './answers';

/** Mastodon keeps an Idempotency-Key an hour; a repeat this much later might post a second status. */
export const MASTODON_KEY_WINDOW_MS = 50 * 60_000;

export interface AnswerPosterOptions {
  secrets: SecretSource;
  /** The network's API origin: a test's or the embedded mode's fake when set. */
  baseUrl?: string | undefined;
  clock?: Clock | undefined;
  logger?: LoggerLike | undefined;
}

/** The answer as the client's post: a reply under the resident's reply, never on its own, never a Test. */
export const answerPost = (request: ReplyRequest): SocialPost => ({
  alertId: request.alertId ?? '',
  version: 0,
  text: request.text,
  inReplyTo: request.inReplyTo,
  idempotencyKey: request.key,
  test: false,
  answer: true,
});

/** A real poster over `client`; `find` and whether it is conclusive as the network allows (above). */
export function socialReplyPoster(
  channel: AnswerChannel,
  client: SocialClient,
  lookup: Pick<PublicReplyPoster, 'find' | 'findIsConclusive'> = {},
): PublicReplyPoster {
  return {
    channel,
    mode: 'real',
    reply: (request, signal) => client.post(answerPost(request), signal),
    ...lookup,
  };
}

export function createMastodonAnswerPoster(options: AnswerPosterOptions): PublicReplyPoster {
  const clock = options.clock ?? systemClock;
  const client = createMastodonClient({
    secrets: options.secrets,
    baseUrl: options.baseUrl,
    logger: options.logger,
    clock,
  });
  return socialReplyPoster('mastodon', client, {
    async find(request, signal) {
      const lostAt = request.lostAttemptAt ? Date.parse(request.lostAttemptAt) : Number.NaN;
      if (!Number.isFinite(lostAt) || clock.now().getTime() - lostAt > MASTODON_KEY_WINDOW_MS)
        return undefined;
      return client.post(answerPost(request), signal);
    },
  });
}

export function createBlueskyAnswerPoster(options: AnswerPosterOptions): PublicReplyPoster {
  const client = createBlueskyClient({
    secrets: options.secrets,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return socialReplyPoster('bluesky', client, {
    find: (request, signal) => client.lookup(request.key, signal),
    findIsConclusive: true,
  });
}

const sameText = (a: string, b: string) =>
  a.replace(/\r\n/g, '\n').trim() === b.replace(/\r\n/g, '\n').trim();

export function createThreadsAnswerPoster(options: AnswerPosterOptions): PublicReplyPoster {
  const client = createThreadsClient({
    secrets: options.secrets,
    baseUrl: options.baseUrl,
    logger: options.logger,
    clock: options.clock,
  });
  const reader = createThreadsReplyReader({
    secrets: options.secrets,
    baseUrl: options.baseUrl,
    logger: options.logger,
  });
  return socialReplyPoster('threads', client, {
    async find(request, signal) {
      const own = await reader.ownReplies(request.inReplyTo, signal);
      const found = own.find((r) => sameText(r.text, request.text));
      return found ? { providerMessageId: found.id } : undefined;
    },
  });
}

export function createTelegramAnswerPoster(options: AnswerPosterOptions): PublicReplyPoster {
  return socialReplyPoster(
    'telegram',
    createTelegramClient({
      secrets: options.secrets,
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    }),
  );
}
