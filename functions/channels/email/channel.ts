/**
 * Email: a message to each subscriber through SES with the function's role, the CAP XML attached; updates name the
 * previous message in In-Reply-To, so mail clients thread them. Quiet hours apply.
 */
import { defineChannel } from '../definition';

export const email = defineChannel({
  name: 'email',
  label: 'Email',
  audience: 'subscriber',
  thread: 'reply',
  unknownOutcome: 'retry',
  credentials: 'role',
  // Email fans out to many outlets and is bounded by the SES send rate, not by one account's limits.
  concurrency: 10,
  checkedByDefault: false,
  linkCode: 'e',
  carriesCap: true,
  quietHours: true,
});
