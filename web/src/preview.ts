/**
 * What each channel would carry (POST /v1/alerts/preview), with its budget. Texts are shown as text; the email's
 * HTML (escaped by the server) is shown in an iframe with an empty sandbox, so nothing in it can run.
 */
import { h, safeUrl } from './dom';
import { CHANNEL, CHANNEL_NAMES, type Channel } from './types';

type Entry = Record<string, unknown> & { warnings?: string[]; languages?: Record<string, Entry> };

export interface Preview {
  channels: Partial<Record<Channel, Entry>>;
  approvalRequired: boolean;
  languages: string[];
  link?: string;
  /** CAP's times as residents will read them, on the agency's clock. */
  times?: { timeZone: string; text?: string };
  /** Who of the SMS and email subscribers would wait for the end of their quiet hours, and until when. */
  quietHours?: QuietHoursPreview;
  warnings: string[];
  /** Fields that still hold a template's placeholder: the alert cannot be sent until they are filled. */
  unfilled: { path: string; message: string }[];
}

export interface QuietHoursPreview {
  urgent: boolean;
  deferred: number;
  timeZone: string;
  until: { at: string; local: string; count: number }[];
  summary: string;
}

/** How many would get it later, and when: beside the reach, so an officer sees it before sending. */
export function quietHoursNote(preview: Preview): HTMLElement | null {
  const quiet = preview.quietHours;
  if (!quiet) return null;
  return h(
    'p',
    { class: quiet.deferred > 0 ? 'notice quiet-hours' : 'hint quiet-hours', id: 'preview-quiet-hours' },
    `Quiet hours: ${quiet.summary}`,
  );
}

export interface SmsReach {
  recipients: number;
  audience: string;
  secondsToLastRecipient: number;
  summary: string;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** "2 h 47 min", "4 min 10 s", "12 s" */
export function humanDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min ${s % 60} s`;
}

function fits(entry: Entry): HTMLElement {
  const ok = entry.fits !== false;
  return h('span', { class: ok ? 'badge ok' : 'badge bad' }, ok ? 'fits' : 'too long');
}

function budget(...parts: (string | HTMLElement)[]): HTMLElement {
  return h(
    'p',
    { class: 'budget' },
    parts.flatMap((p, i) => (i ? [' · ', p] : [p])),
  );
}

/** The limit the server counted against, else the channel's own budget (functions/channels/<name>/channel.ts). */
const limitOf = (channel: Channel, entry: Entry): number =>
  num(entry.limit) || (CHANNEL[channel]?.budget?.limit ?? 0);

const pre = (text: string) => h('p', { class: 'message' }, text);

function body(channel: Channel, entry: Entry): HTMLElement[] {
  switch (channel) {
    case 'x':
      return [
        budget(`${num(entry.weightedLength)} / ${limitOf(channel, entry)} weighted characters`, fits(entry)),
        pre(str(entry.text)),
      ];
    case 'facebook':
      return [budget(`${num(entry.characters)} characters`, fits(entry)), pre(str(entry.text))];
    case 'instagram': {
      const image = (entry.image ?? {}) as { url?: string; alt?: string; source?: string };
      const src = image.url?.startsWith('data:image/') ? image.url : safeUrl(image.url);
      return [
        budget(`caption ${num(entry.characters)} / ${limitOf(channel, entry)} characters`, fits(entry)),
        src
          ? h('img', {
              class: 'card-image',
              src,
              alt: image.alt ?? '',
              width: '270',
              height: '338',
            })
          : h('p', null, 'The alert card is drawn when the post is sent.'),
        image.source === 'card' ? h('p', { class: 'hint' }, 'Alert card (1080×1350 JPEG)') : null,
        pre(str(entry.caption)),
      ].filter((e): e is HTMLElement => e !== null);
    }
    case 'sms': {
      const reach = entry.reach as SmsReach | undefined;
      return [
        budget(
          `${str(entry.encoding)}`,
          `${num(entry.characters)} characters`,
          `${num(entry.segments)} of at most ${num(entry.maxSegments) || limitOf(channel, entry)} segments`,
          fits(entry),
        ),
        pre(str(entry.text)),
        ...(reach
          ? [
              h('p', { class: 'reach' }, reach.summary),
              h(
                'p',
                { class: 'reach' },
                `Time to reach the last SMS recipient: ${humanDuration(reach.secondsToLastRecipient)}`,
              ),
            ]
          : []),
      ];
    }
    case 'email':
      return [
        h('p', null, h('strong', null, 'Subject: '), str(entry.subject)),
        h('details', null, h('summary', null, 'Plain text version'), pre(str(entry.text))),
        h('iframe', {
          class: 'email-frame',
          title: 'Email as recipients see it',
          sandbox: '',
          srcdoc: str(entry.html),
          loading: 'lazy',
        }),
      ];
    case 'webhook':
      // It scrolls: focusable, so a keyboard can scroll it too (WCAG 2.1.1), and named for whoever lands on it.
      return [
        h(
          'pre',
          { class: 'payload', tabindex: '0', role: 'region', 'aria-label': 'Webhook payload' },
          JSON.stringify(entry.payload, null, 2),
        ),
      ];
    default:
      return textBody(channel, entry);
  }
}

/**
 * A channel with no view of its own above: its text, counted against its budget when its definition has one. A
 * channel whose preview entry carries `text` and `length` (or `characters`) shows without a change here.
 */
function textBody(channel: Channel, entry: Entry): HTMLElement[] {
  const budgetOf = CHANNEL[channel]?.budget;
  const length = num(entry.length ?? entry.characters);
  return [
    budget(
      budgetOf ? `${length} / ${limitOf(channel, entry)} ${budgetOf.unit}` : `${length} characters`,
      fits(entry),
    ),
    pre(str(entry.text)),
  ];
}

export function renderChannelPreview(channel: Channel, entry: Entry, language: string): HTMLElement {
  const shown = entry.language === language ? entry : (entry.languages?.[language] ?? entry);
  const warnings = shown.warnings ?? [];
  return h(
    'section',
    { class: 'channel-preview', 'aria-labelledby': `preview-${channel}` },
    h('h3', { id: `preview-${channel}` }, CHANNEL_NAMES[channel]),
    body(channel, shown),
    warnings.length
      ? h(
          'ul',
          { class: 'warnings' },
          warnings.map((w) => h('li', null, w)),
        )
      : null,
  );
}
