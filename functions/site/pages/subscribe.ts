/**
 * Sign-up and manage share their forms: the address, the zones (map, find-my-zone, checkboxes), the language and
 * quiet hours; then the code page; then what was confirmed or saved. Each is a plain HTML form that works without
 * JavaScript.
 */
import type { Subscriber } from '../../core/model';
import { escapeHtml } from '../../core/render';
import type { ZoneCatalog } from '../../core/zones';
import {
  errorSummary,
  type FormState,
  hidden,
  languageSelect,
  quietFieldset,
  radios,
  textField,
  zonesFieldset,
} from '../components';
import { href, type SiteContext } from '../layout';
import { zonesMap } from './map-section';

export const subscribeLabels = (ctx: SiteContext) => ({
  channel: ctx.text.subscribe.how,
  address: ctx.text.subscribe.address,
  zones: ctx.text.subscribe.zones,
  language: ctx.text.subscribe.language,
  quietHours: ctx.text.subscribe.quiet,
  code: ctx.text.code.code,
});

export function subscribeBody(
  ctx: SiteContext,
  state: FormState,
  zones: ZoneCatalog,
  consentText: string,
): string {
  const t = ctx.text.subscribe;
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    `<p>${escapeHtml(t.intro)}</p>`,
    errorSummary(ctx, state, subscribeLabels(ctx)),
    `<form method="post" action="${escapeHtml(href(ctx, '/subscribe'))}" novalidate>`,
    hidden('lang', ctx.lang),
    radios(state, {
      name: 'channel',
      legend: t.how,
      fallback: 'sms',
      options: [
        { value: 'sms', label: t.sms },
        { value: 'email', label: t.email },
      ],
    }),
    textField(state, { name: 'address', label: t.address, hint: t.addressHelp, required: true }),
    zonesFieldset(ctx, state, zones, zonesMap(ctx, zones)),
    languageSelect(ctx, state, t.language),
    quietFieldset(ctx, state),
    `<h2>${escapeHtml(t.consentTitle)}</h2>`,
    `<p class="consent">${escapeHtml(consentText)}</p>`,
    `<button type="submit">${escapeHtml(t.send)}</button>`,
    '</form>',
  ].join('');
}

/** The code page: the address goes back in a hidden field, as the API's confirm takes it. */
export function codeBody(
  ctx: SiteContext,
  state: FormState,
  sent: { address: string; masked: string; expiresAt: string; action: string; startAgain: string },
  timeZone: string,
): string {
  const t = ctx.text.code;
  const until = new Intl.DateTimeFormat(ctx.lang, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  }).format(new Date(sent.expiresAt));
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    `<p>${escapeHtml(t.sent(sent.masked, until))}</p>`,
    errorSummary(ctx, state, { code: t.code }),
    `<form method="post" action="${escapeHtml(href(ctx, sent.action))}">`,
    hidden('lang', ctx.lang),
    hidden('address', sent.address),
    hidden('masked', sent.masked),
    hidden('expiresAt', sent.expiresAt),
    textField(state, {
      name: 'code',
      label: t.code,
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      required: true,
      maxlength: 6,
    }),
    `<button type="submit">${escapeHtml(t.confirm)}</button>`,
    '</form>',
    `<p><a href="${escapeHtml(href(ctx, sent.startAgain))}">${escapeHtml(t.again)}</a></p>`,
  ].join('');
}

/** What a confirmed subscription reaches: zones by name, and quiet hours when set. */
export function subscriptionSummary(
  ctx: SiteContext,
  subscriber: Pick<Subscriber, 'zones' | 'quietHours'>,
  zones: ZoneCatalog,
): string {
  const t = ctx.text.confirmed;
  const names = subscriber.zones.map((z) => zones.nameIn(z, ctx.lang)).join(', ');
  return [
    `<p>${escapeHtml(t.summary(names))}</p>`,
    subscriber.quietHours
      ? `<p>${escapeHtml(t.quiet(subscriber.quietHours.from, subscriber.quietHours.to))}</p>`
      : '',
  ].join('');
}

export function confirmedBody(
  ctx: SiteContext,
  subscriber: Pick<Subscriber, 'zones' | 'quietHours'>,
  zones: ZoneCatalog,
): string {
  const t = ctx.text.confirmed;
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    `<div class="notice" role="status">${subscriptionSummary(ctx, subscriber, zones)}</div>`,
    `<p><a href="${escapeHtml(href(ctx, '/manage'))}">${escapeHtml(t.manage)}</a></p>`,
  ].join('');
}
