/**
 * Officers' public answers on Facebook and Instagram, over the Graph client the providers post with (./graph.ts):
 *
 *   Facebook   POST /{comment-id}/comments { message }     with the Page token: a reply in the comment's thread
 *   Instagram  POST /{ig-comment-id}/replies { message }   with the Instagram token (a reply to a reply joins the
 *                                                          top-level comment's thread, as Instagram places it)
 *
 * Failures leave as the ProviderErrors ./graph.ts makes of Graph's answers (a throttle `retryable` with Graph's wait
 * when its usage headers say, a comment that is gone `permanent`, a lost answer `unknown-outcome`); a token Graph
 * rejects is read again once, as for alerts. Unlike X, Graph can be asked afterwards: `find` lists the replies under
 * the resident's comment and picks the account's own with the same text, so an answer whose outcome was lost is
 * settled from what Graph shows rather than guessed.
 */
import { ProviderError, type SecretSource } from '../../ports';
import type { PublicReplyPoster, ReplyRequest } from '../../replies/answers';
import type { LoggerLike } from '../../shared/logger';
import { type CredentialsOptions, GraphClient, withCredentials } from './graph';

export interface MetaReplyPosterOptions {
  secrets: SecretSource;
  /** Graph's origin; the tests point it at a local fake. */
  baseUrl?: string | undefined;
  logger?: LoggerLike | undefined;
}

interface GraphComment {
  id?: string;
  message?: string;
  text?: string;
  from?: { id?: string };
}

/** Replies listed when looking for ours: it is among the newest (the lookup follows the attempt within minutes). */
const LOOKUP_LIMIT = 100;

const posted = (answer: { id?: string }, what: string) => {
  if (!answer.id) throw new ProviderError('unknown-outcome', `Graph accepted the ${what} but named no id`);
  return { providerMessageId: answer.id };
};

export function createFacebookReplyPoster(options: MetaReplyPosterOptions): PublicReplyPoster {
  const graph = new GraphClient({ baseUrl: options.baseUrl });
  const credentials: CredentialsOptions<{ pageId: string; pageAccessToken: string }> = {
    secrets: options.secrets,
    channel: 'facebook',
    logger: options.logger,
    parse: ({ pageId, pageAccessToken }) =>
      pageId && pageAccessToken ? { pageId, pageAccessToken } : undefined,
    token: (c) => c.pageAccessToken,
  };
  return {
    channel: 'facebook',
    mode: 'real',
    reply: (request: ReplyRequest, signal: AbortSignal) =>
      withCredentials(credentials, async (c) =>
        posted(
          await graph.post<{ id?: string }>(
            `${request.inReplyTo}/comments`,
            { message: request.text },
            { token: c.pageAccessToken, signal, publishes: true },
          ),
          'reply',
        ),
      ),
    find: (request: ReplyRequest, signal: AbortSignal) =>
      withCredentials(credentials, async (c) => {
        const page = await graph.get<{ data?: GraphComment[] }>(
          `${request.inReplyTo}/comments`,
          {
            fields: 'id,message,from',
            filter: 'stream',
            order: 'reverse_chronological',
            limit: LOOKUP_LIMIT,
          },
          { token: c.pageAccessToken, signal },
        );
        const ours = page.data?.find((r) => r.id && r.from?.id === c.pageId && r.message === request.text);
        return ours?.id ? { providerMessageId: ours.id } : undefined;
      }),
  };
}

export function createInstagramReplyPoster(options: MetaReplyPosterOptions): PublicReplyPoster {
  const graph = new GraphClient({ baseUrl: options.baseUrl });
  const credentials: CredentialsOptions<{ igUserId: string; accessToken: string }> = {
    secrets: options.secrets,
    channel: 'instagram',
    logger: options.logger,
    parse: ({ igUserId, accessToken }) => (igUserId && accessToken ? { igUserId, accessToken } : undefined),
    token: (c) => c.accessToken,
  };
  return {
    channel: 'instagram',
    mode: 'real',
    reply: (request: ReplyRequest, signal: AbortSignal) =>
      withCredentials(credentials, async (c) =>
        posted(
          await graph.post<{ id?: string }>(
            `${request.inReplyTo}/replies`,
            { message: request.text },
            { token: c.accessToken, signal, publishes: true },
          ),
          'reply',
        ),
      ),
    find: (request: ReplyRequest, signal: AbortSignal) =>
      withCredentials(credentials, async (c) => {
        const page = await graph.get<{ data?: GraphComment[] }>(
          `${request.inReplyTo}/replies`,
          { fields: 'id,text,from', limit: LOOKUP_LIMIT },
          { token: c.accessToken, signal },
        );
        const ours = page.data?.find((r) => r.id && r.from?.id === c.igUserId && r.text === request.text);
        return ours?.id ? { providerMessageId: ours.id } : undefined;
      }),
  };
}
