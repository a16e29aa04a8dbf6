/**
 * GET /alerts/{id}: one alert as the public reads it now, in the page's language when the alert is written in it,
 * with every version that went out as a thread, its map, its CAP and the feeds, a tip form, and the Open Graph and
 * card metadata that make a shared link show the alert.
 */

import { CARD_HEIGHT, CARD_WIDTH } from '../../adapters/card/alert-card';
import type { StoredVersion } from '../../core/model';
import {
  alertArticle,
  alertImage,
  escapeHtml,
  languagesOf,
  localise,
  localTime,
  publicPageUrl,
  type RenderConfig,
} from '../../core/render';
import type { ZoneCatalog } from '../../core/zones';
import { errorSummary, type FormState, hidden, radios, textField } from '../components';
import { siteText } from '../i18n';
import { href, type SiteContext } from '../layout';
import { alertsMap } from './map-section';
import { withZoneNames } from './zone-names';

type Config = RenderConfig & { timeZone: string };

/** The tip form's fields, and the labels its error summary names them by. */
export const tipLabels = (ctx: SiteContext) => ({
  text: ctx.text.tip.text,
  contact: ctx.text.tip.address,
  contactChannel: ctx.text.tip.contactChannel,
});

export function tipForm(ctx: SiteContext, alertId: string, state: FormState): string {
  const t = ctx.text.tip;
  return [
    '<section aria-labelledby="tip-title">',
    `<h2 id="tip-title">${escapeHtml(t.title)}</h2>`,
    `<p>${escapeHtml(t.intro)}</p>`,
    errorSummary(ctx, state, tipLabels(ctx)),
    `<form method="post" action="${escapeHtml(href(ctx, `/alerts/${encodeURIComponent(alertId)}/tips`))}">`,
    hidden('lang', ctx.lang),
    textField(state, { name: 'text', label: t.text, multiline: true, required: true, maxlength: 2000 }),
    `<fieldset><legend>${escapeHtml(t.contactLegend)}</legend><p class="hint">${escapeHtml(t.contactHelp)}</p>`,
    radios(state, {
      name: 'contactChannel',
      legend: t.contactChannel,
      fallback: 'none',
      options: [
        { value: 'none', label: t.none },
        { value: 'sms', label: t.sms },
        { value: 'email', label: t.email },
      ],
    }),
    textField(state, { name: 'contact', label: t.address, type: 'text', autocomplete: 'off' }),
    '</fieldset>',
    `<button type="submit">${escapeHtml(t.send)}</button>`,
    '</form></section>',
  ].join('');
}

/** Open Graph and X card tags: a shared link shows the alert's headline, its first words and its image. */
function shareTags(ctx: SiteContext, current: StoredVersion, config: Config): string {
  const l = localise(current, config, ctx.lang);
  const image = alertImage(l.content);
  const description = l.content.description.replace(/\s+/g, ' ').slice(0, 200);
  const url = `${publicPageUrl(config, current.alertId)}?lang=${ctx.lang}`;
  const tags: [string, string][] = [
    ['og:type', 'article'],
    ['og:site_name', ctx.agencyName],
    ['og:title', `${l.prefix}${l.content.headline}`],
    ['og:description', description],
    ['og:url', url],
    ['og:locale', l.content.language.replace('-', '_')],
    // The alert's own image when it has one; otherwise its card (portrait, as Instagram gets it), which X shows as a
    // summary card rather than cropping it to a wide banner.
    ['twitter:card', image ? 'summary_large_image' : 'summary'],
    ['twitter:title', `${l.prefix}${l.content.headline}`],
    ['twitter:description', description],
    ...((image
      ? [
          ['og:image', image.url],
          ['og:image:alt', image.alt],
          ['twitter:image', image.url],
          ['twitter:image:alt', image.alt],
        ]
      : [
          ['og:image', `${publicPageUrl(config, current.alertId)}/card.jpg?lang=${ctx.lang}`],
          ['og:image:type', 'image/jpeg'],
          ['og:image:width', String(CARD_WIDTH)],
          ['og:image:height', String(CARD_HEIGHT)],
          ['og:image:alt', `${l.prefix}${l.content.headline}`],
          ['twitter:image', `${publicPageUrl(config, current.alertId)}/card.jpg?lang=${ctx.lang}`],
          ['twitter:image:alt', `${l.prefix}${l.content.headline}`],
        ]) as [string, string][]),
  ];
  return [
    `<meta name="description" content="${escapeHtml(description)}">`,
    `<link rel="canonical" href="${escapeHtml(url)}">`,
    `<link rel="alternate" type="application/cap+xml" href="/v1/alerts/${encodeURIComponent(current.alertId)}.cap" title="CAP 1.2">`,
    ...tags.map(([property, content]) =>
      property.startsWith('og:')
        ? `<meta property="${property}" content="${escapeHtml(content)}">`
        : `<meta name="${property}" content="${escapeHtml(content)}">`,
    ),
  ].join('');
}

/** Every version that went out, newest first: what changed, when. */
function thread(ctx: SiteContext, released: readonly StoredVersion[], config: Config): string {
  if (released.length < 2) return '';
  const items = [...released].reverse().map((v) => {
    const l = localise(v, config, ctx.lang);
    return [
      `<li lang="${escapeHtml(l.content.language)}">`,
      `<h3>${escapeHtml(`${ctx.text.alert.version(v.version)} · ${l.prefix}${l.content.headline}`)}</h3>`,
      `<p class="muted" lang="${ctx.lang}">${escapeHtml(ctx.text.alert.issued)} <time datetime="${escapeHtml(v.sent)}">${escapeHtml(localTime(v.sent, config.timeZone, ctx.lang))}</time></p>`,
      l.note ? `<p>${escapeHtml(l.note)}</p>` : '',
      `<p>${escapeHtml(l.content.description)}</p>`,
      '</li>',
    ].join('');
  });
  return `<section aria-labelledby="thread-title"><h2 id="thread-title">${escapeHtml(ctx.text.alert.thread)}</h2><ol class="thread" reversed>${items.join('')}</ol></section>`;
}

export interface AlertPage {
  title: string;
  head: string;
  body: string;
}

export function alertPageBody(
  ctx: SiteContext,
  released: readonly StoredVersion[],
  config: Config,
  zones: ZoneCatalog,
  tip: FormState,
): AlertPage {
  const current = withZoneNames(released.at(-1) as StoredVersion, zones, ctx.lang);
  const l = localise(current, config, ctx.lang);
  const written = languagesOf(current.content).map((x) => x.toLowerCase().split('-')[0] ?? x);
  const notice = written.includes(ctx.lang)
    ? ''
    : `<p class="notice">${escapeHtml(ctx.text.alert.notInLanguage(ctx.text.languageName))}</p>`;
  const others = ctx.languages.filter((x) => x !== ctx.lang && written.includes(x));
  const otherLinks = others.length
    ? `<p>${escapeHtml(ctx.text.alert.otherLanguages)}: ${others
        .map(
          (x) =>
            `<a href="${escapeHtml(href(ctx, ctx.path, x))}" lang="${x}" hreflang="${x}">${escapeHtml(siteText(x).languageName)}</a>`,
        )
        .join(', ')}</p>`
    : '';
  const id = encodeURIComponent(current.alertId);
  const machine = [
    `<h2>${escapeHtml(ctx.text.alert.machineReadable)}</h2><ul>`,
    `<li><a href="/v1/alerts/${id}.cap" type="application/cap+xml">${escapeHtml(ctx.text.alert.capLink)}</a></li>`,
    '<li><a href="/v1/feed.atom">Atom</a></li><li><a href="/v1/feed.rss">RSS</a></li><li><a href="/v1/feed.json">JSON Feed</a></li>',
    '</ul>',
  ].join('');
  return {
    title: `${l.prefix}${l.content.headline}`,
    head: shareTags(ctx, current, config),
    body: [
      notice,
      alertArticle(l, ctx.agencyName, 'site'),
      otherLinks,
      alertsMap(ctx, [current], zones, ctx.text.alert.mapTitle, 'alert'),
      thread(ctx, released, config),
      tipForm(ctx, current.alertId, tip),
      machine,
    ].join(''),
  };
}
