/**
 * Instagram: an image post with a caption; without an image of its own the alert gets its alert card. Instagram has
 * no replies to one's own post through the API, so each version is a post of its own.
 */
import { defineChannel } from '../definition';

export const instagram = defineChannel({
  name: 'instagram',
  label: 'Instagram',
  audience: 'social',
  budget: { limit: 2200, unit: 'caption characters' },
  thread: 'standalone',
  unknownOutcome: 'mark-unknown',
  credentials: 'secret',
  concurrency: 2,
  checkedByDefault: true,
  linkCode: 'i',
  needsImage: true,
  alarmOnRejectedCredentials: true,
});
