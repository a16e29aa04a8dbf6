/** SMS: a text to each subscriber, through SNS with the function's role; quiet hours apply. */
import { defineChannel } from '../definition';

export const sms = defineChannel({
  name: 'sms',
  label: 'SMS',
  audience: 'subscriber',
  budget: { limit: 2, unit: 'segments' },
  thread: 'standalone',
  unknownOutcome: 'retry',
  credentials: 'role',
  // Unused: the SMS senders are sized from the account's messages per second (lib/herald-stack.ts).
  concurrency: 2,
  checkedByDefault: false,
  linkCode: 's',
  quietHours: true,
});
