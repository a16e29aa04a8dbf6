/**
 * Bluesky: a post as the agency's account; updates and cancels reply to the post before them, naming the thread's
 * root and parent. A lost answer is sent again: the record key comes from the idempotency key, so the repeat
 * cannot make a second post (./client.ts).
 */
import { defineChannel } from '../definition';

export const bluesky = defineChannel({
  name: 'bluesky',
  label: 'Bluesky',
  audience: 'social',
  // Within 3,000 UTF-8 bytes as well (./render.ts).
  budget: { limit: 300, unit: 'graphemes' },
  thread: 'reply',
  unknownOutcome: 'retry',
  credentials: 'secret',
  concurrency: 2,
  // An agency that has not set up an account on it should not find it ticked.
  checkedByDefault: false,
  linkCode: 'b',
});
