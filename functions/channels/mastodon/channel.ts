/**
 * Mastodon: a status as the agency's account on its instance; updates and cancels reply to the status before them.
 * A lost answer is sent again: the client's Idempotency-Key makes the instance answer a repeat with the status it
 * already made (./client.ts says for how long).
 */
import { defineChannel } from '../definition';

export const mastodon = defineChannel({
  name: 'mastodon',
  label: 'Mastodon',
  audience: 'social',
  // What every instance takes; links count 23 whatever their length (./render.ts).
  budget: { limit: 500, unit: 'characters' },
  thread: 'reply',
  unknownOutcome: 'retry',
  credentials: 'secret',
  concurrency: 2,
  // An agency that has not set up an account on it should not find it ticked.
  checkedByDefault: false,
  linkCode: 'm',
});
