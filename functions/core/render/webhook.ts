/**
 * Webhooks: the version as the API shows it, in the Standard Webhooks envelope (`type`, `timestamp`,
 * `data`). Who wrote and who approved it stay out: subscribers are media outlets, and the people behind an
 * alert are for the agency's own readers of the API and for auditors.
 */
import type { MsgType } from '../../../schemas/alert';
import { toApiVersion } from '../alerts';
import type { StoredVersion } from '../model';
import { alertLink, type RenderConfig } from './version';

export type WebhookEventType = 'alert.created' | 'alert.updated' | 'alert.cancelled';

const EVENT_TYPE: Record<MsgType, WebhookEventType> = {
  Alert: 'alert.created',
  Update: 'alert.updated',
  Cancel: 'alert.cancelled',
};

export function renderWebhook(version: StoredVersion, config: Pick<RenderConfig, 'publicBaseUrl'>) {
  const { author: _author, approval: _approval, state: _state, ...data } = toApiVersion(version, true);
  return {
    type: EVENT_TYPE[version.msgType],
    timestamp: version.sent,
    data: { ...data, link: alertLink(config, version.alertId, version.content) },
  } satisfies Record<string, unknown>;
}
