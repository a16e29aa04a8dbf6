/**
 * Telegram: a message in the agency's channel through its bot, a photo with its caption when the alert has an
 * image; updates and cancels reply to the message before them. The Bot API takes no idempotency key, so a lost
 * answer is recorded as unknown rather than risk a duplicate in the channel.
 */
import { defineChannel } from '../definition';

export const telegram = defineChannel({
  name: 'telegram',
  label: 'Telegram',
  audience: 'social',
  // A text message's limit; a photo's caption has 1,024, and the preview's entry names the one it counted against.
  budget: { limit: 4096, unit: 'characters' },
  thread: 'reply',
  unknownOutcome: 'mark-unknown',
  credentials: 'secret',
  concurrency: 2,
  // An agency that has not set up an account on it should not find it ticked.
  checkedByDefault: false,
  linkCode: 'g',
});
