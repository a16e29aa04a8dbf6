/**
 * Public answers on a channel without credentials, in the embedded mode: the channel's sandbox provider (./sandbox.ts)
 * records the reply in the outbox, like the sandbox's alert posts, with `inReplyTo` the resident's reply and the
 * answer's key as its idempotency key; the faults injected for the channel apply to it too. The outbox can be asked
 * (by that key, read from the table itself), and a reply it does not hold was never recorded: after a lost outcome,
 * posting it is safe.
 */
import type { ChannelContent, ChannelProvider } from '../../ports';
import type { AnswerChannel, PublicReplyPoster, ReplyRequest } from '../../replies/answers';

/** The outbox files a reply under its tip's alert; version 0 is none of an alert's versions (as for notices). */
export const ANSWER_VERSION = 0;
const NO_ALERT = 'tip';

/** What the sandbox is handed: it records `text` and the message's own fields, never the content's image. */
function contentOf(channel: AnswerChannel, text: string): ChannelContent {
  if (channel === 'instagram') return { channel, caption: text, image: { url: '', alt: '' } };
  if (channel === 'x' || channel === 'facebook') return { channel, text };
  return { channel, text, link: '', language: '' };
}

export function sandboxReplyPoster(
  channel: AnswerChannel,
  provider: ChannelProvider,
  /** The agency's account on the channel: the outbox's recipient, as for its posts. */
  account: string,
): PublicReplyPoster {
  const lookup = provider.lookup?.bind(provider);
  return {
    channel,
    mode: 'sandbox',
    reply: (request: ReplyRequest, signal: AbortSignal) =>
      provider.send(
        {
          channel,
          alertId: request.alertId ?? NO_ALERT,
          version: ANSWER_VERSION,
          recipient: account,
          text: request.text,
          content: contentOf(channel, request.text),
          inReplyTo: request.inReplyTo,
          idempotencyKey: request.key,
          test: false,
        },
        signal,
      ),
    ...(lookup ? { find: (request: ReplyRequest) => lookup(request.key), findIsConclusive: true } : {}),
  };
}
