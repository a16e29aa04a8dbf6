/** Facebook: a post on the agency's Page; updates and cancels are comments under it. */
import { defineChannel } from '../definition';

export const facebook = defineChannel({
  name: 'facebook',
  label: 'Facebook',
  audience: 'social',
  thread: 'reply',
  unknownOutcome: 'mark-unknown',
  credentials: 'secret',
  concurrency: 2,
  checkedByDefault: true,
  linkCode: 'f',
  alarmOnRejectedCredentials: true,
});
