/**
 * Telegram engagement: none. The Bot API a bot posts with has no method that reads a channel post's view count or
 * reactions: `views` appears only on a Message the bot receives (a channel_post update when it is posted, an edit),
 * never afterwards, and reaction counts only reach a bot as `message_reaction_count` updates for chats where it is an
 * administrator, which Herald's bot does not listen for. Reading views needs the user-account API (MTProto's
 * messages.getMessagesViews), which would mean a person's phone-number login on a server. So this reader says why
 * and reads nothing; the impact route shows no engagement for Telegram rather than zeros.
 */
import type { MetricsReader } from '../../impact/model';

export const TELEGRAM_NO_METRICS =
  "Telegram's Bot API cannot read a channel post's views or reactions: no engagement is polled for Telegram";

export function createTelegramMetricsReader(): MetricsReader {
  return {
    channel: 'telegram',
    batchSize: 1,
    unavailable: async () => TELEGRAM_NO_METRICS,
    read: async () => {
      throw new Error(TELEGRAM_NO_METRICS);
    },
  };
}
