/**
 * Threads: a post as the agency's account (a container, then published); updates and cancels reply to the post
 * before them. Threads takes no idempotency key, so a lost answer is recorded as unknown rather than risk a
 * duplicate on the agency's profile.
 */
import { defineChannel } from '../definition';

export const threads = defineChannel({
  name: 'threads',
  label: 'Threads',
  audience: 'social',
  // Counted as Threads documents it: an emoji costs its UTF-8 bytes (./render.ts).
  budget: { limit: 500, unit: 'characters' },
  thread: 'reply',
  unknownOutcome: 'mark-unknown',
  credentials: 'secret',
  concurrency: 2,
  // An agency that has not set up an account on it should not find it ticked.
  checkedByDefault: false,
  linkCode: 't',
});
