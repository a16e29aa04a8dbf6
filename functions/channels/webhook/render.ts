/**
 * Webhooks: the version as the API shows it, in the Standard Webhooks envelope (`type`, `timestamp`,
 * `data`). Who wrote and who approved it stay out: subscribers are media outlets, and the people behind an
 * alert are for the agency's own readers of the API and for auditors.
 */
import type { MsgType } from '../../../schemas/alert';
import { toApiVersion } from '../../core/alerts';
import type { StoredVersion } from '../../core/model';
import { alertPlainText } from '../../core/render/article';
import { alertLink, localise, type RenderConfig } from '../../core/render/version';
import type { ChannelRenderer } from '../renderer';

export type WebhookEventType = 'alert.created' | 'alert.updated' | 'alert.cancelled';

const EVENT_TYPE: Record<MsgType, WebhookEventType> = {
  Alert: 'alert.created',
  Update: 'alert.updated',
  Cancel: 'alert.cancelled',
};

/**
 * `data.cap` is where the version's CAP 1.2 lives: its public URL always, and the XML itself when the caller
 * passes it, so a receiver that speaks CAP (a neighbouring agency, an aggregator) needs no second request.
 */
export function renderWebhook(
  version: StoredVersion,
  config: Pick<RenderConfig, 'publicBaseUrl'>,
  capXml?: string,
) {
  const { author: _author, approval: _approval, state: _state, ...data } = toApiVersion(version);
  return {
    type: EVENT_TYPE[version.msgType],
    timestamp: version.sent,
    data: {
      ...data,
      link: alertLink(config, version.alertId, version.content),
      cap: {
        url: `${config.publicBaseUrl}/v1/alerts/${version.alertId}/versions/${version.version}.cap`,
        ...(capXml ? { xml: capXml } : {}),
      },
    },
  } satisfies Record<string, unknown>;
}

export const webhookRenderer: ChannelRenderer<'webhook'> = {
  channel: 'webhook',
  content(version, config, { language, cap }) {
    return {
      content: { channel: 'webhook', payload: renderWebhook(version, config, cap) },
      text: alertPlainText(localise(version, config, language), config.agencyName),
    };
  },
  preview: (version, config) => ({ payload: renderWebhook(version, config), warnings: [] }),
};
