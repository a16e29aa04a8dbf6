/** X: one post as the agency's account; updates and cancels reply to the post before them. */
import { defineChannel } from '../definition';

export const x = defineChannel({
  name: 'x',
  label: 'X',
  audience: 'social',
  budget: { limit: 280, unit: 'weighted characters' },
  thread: 'reply',
  unknownOutcome: 'mark-unknown',
  credentials: 'secret',
  concurrency: 2,
  checkedByDefault: true,
  linkCode: 'x',
});
