/**
 * Email for the media: the alert as HTML and plain text (functions/core/render/article.ts, shared with the public
 * page), threaded by Message-ID, with the version's CAP XML attached.
 */
import { alertDocument, alertPlainText } from '../../core/render/article';
import { localise, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { EmailAttachment } from '../../ports';
import type { ChannelRenderer } from '../renderer';

/**
 * The domain of Herald's Message-IDs: the sender's mail domain (`alerts@city.example` → `city.example`), or
 * the public site's host when the sender is no address.
 */
export function messageIdDomain(config: Pick<RenderConfig, 'sender' | 'publicBaseUrl'>): string {
  const fromSender = config.sender.includes('@') ? config.sender.split('@').pop() : config.sender;
  if (fromSender && /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(fromSender)) return fromSender.toLowerCase();
  try {
    return new URL(config.publicBaseUrl).hostname || 'herald.invalid';
  } catch {
    return 'herald.invalid';
  }
}

/** Stable per (alert, version): a retried send carries the same id, and a later version can point at it. */
export const messageIdFor = (alertId: string, version: number, domain: string): string =>
  `<herald.${alertId}.${version}@${domain}>`;

export interface EmailRendering {
  subject: string;
  text: string;
  html: string;
  attachments: EmailAttachment[];
  messageId: string;
  inReplyTo?: string | undefined;
  references?: string[] | undefined;
  warnings: string[];
}

/**
 * The email of one version in one language. Updates and cancels reply to the version before and reference
 * every earlier one, so mail clients show the alert as one thread. `cap`: the version's CAP XML, attached.
 */
export function renderEmail(
  version: RenderVersion,
  config: RenderConfig,
  options: { language?: string | undefined; cap?: string | undefined } = {},
): EmailRendering {
  const l = localise(version, config, options.language);
  const domain = messageIdDomain(config);
  const earlier = Array.from({ length: version.version - 1 }, (_, i) =>
    messageIdFor(version.alertId, i + 1, domain),
  );
  // A header cannot hold a line break; the headline may not contain one, but the subject must never do.
  const subject = `${l.prefix}${l.content.headline}`.replace(/[\r\n]+/g, ' ');
  return {
    subject,
    text: alertPlainText(l, config.agencyName),
    html: alertDocument(l, config.agencyName),
    attachments: options.cap
      ? [
          {
            filename: `${version.alertId}-v${version.version}.cap.xml`,
            contentType: 'application/cap+xml',
            content: options.cap,
          },
        ]
      : [],
    messageId: messageIdFor(version.alertId, version.version, domain),
    ...(earlier.length ? { inReplyTo: earlier[earlier.length - 1], references: earlier } : {}),
    warnings: [],
  };
}

export const emailRenderer: ChannelRenderer<'email'> = {
  channel: 'email',
  content(version, config, { language, cap }) {
    const { warnings: _w, ...email } = renderEmail(version, config, { language, cap });
    return { content: { channel: 'email', ...email }, text: `${email.subject}\n\n${email.text}` };
  },
  preview(version, config, language) {
    const r = renderEmail(version, config, { language });
    return {
      subject: r.subject,
      text: r.text,
      html: r.html,
      messageId: r.messageId,
      warnings: [...r.warnings, 'the CAP XML of the alert is attached when it is sent'],
    };
  },
};
