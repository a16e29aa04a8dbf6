/**
 * Webhooks: a signed JSON payload, every language and the CAP XML in it, to each registered receiver. Each webhook
 * signs with its own secret; the channel's secret may hold a shared `signingSecret` for those that have none.
 */
import { defineChannel } from '../definition';

export const webhook = defineChannel({
  name: 'webhook',
  label: 'Webhooks',
  audience: 'subscriber',
  thread: 'standalone',
  unknownOutcome: 'retry',
  credentials: 'secret',
  concurrency: 5,
  checkedByDefault: false,
  linkCode: 'w',
  carriesCap: true,
});
