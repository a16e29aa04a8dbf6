/**
 * /manage: the address form (a code goes to it), then, in a session the code opened, the subscription's settings
 * and the button that ends it. The settings and end forms carry the session's CSRF token.
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
  textField,
  zonesFieldset,
} from '../components';
import { href, type SiteContext } from '../layout';
import { zonesMap } from './map-section';
import { subscribeLabels } from './subscribe';

export function manageStartBody(ctx: SiteContext, state: FormState, notice?: string): string {
  const t = ctx.text.manage;
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : '',
    `<p>${escapeHtml(t.intro)}</p>`,
    errorSummary(ctx, state, subscribeLabels(ctx)),
    `<form method="post" action="${escapeHtml(href(ctx, '/manage'))}" novalidate>`,
    hidden('lang', ctx.lang),
    textField(state, {
      name: 'address',
      label: ctx.text.subscribe.address,
      hint: ctx.text.subscribe.addressHelp,
      required: true,
    }),
    `<button type="submit">${escapeHtml(t.send)}</button>`,
    '</form>',
  ].join('');
}

/** The form's values from the stored subscription, for the first showing. */
export function settingsState(subscriber: Subscriber): FormState {
  return {
    values: {
      zones: subscriber.zones,
      language: subscriber.language.split('-')[0],
      quietFrom: subscriber.quietHours?.from,
      quietTo: subscriber.quietHours?.to,
    },
    errors: new Map(),
  };
}

export function manageSettingsBody(
  ctx: SiteContext,
  subscriber: Subscriber,
  state: FormState,
  zones: ZoneCatalog,
  csrf: string,
  notice?: string,
): string {
  const t = ctx.text.manage;
  return [
    `<h1>${escapeHtml(t.settingsTitle)}</h1>`,
    notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : '',
    `<p>${escapeHtml(t.subscribedAs(subscriber.addressMasked))}</p>`,
    errorSummary(ctx, state, subscribeLabels(ctx)),
    `<form method="post" action="${escapeHtml(href(ctx, '/manage/settings'))}" novalidate>`,
    hidden('lang', ctx.lang),
    hidden('csrf', csrf),
    zonesFieldset(ctx, state, zones, zonesMap(ctx, zones)),
    languageSelect(ctx, state, ctx.text.subscribe.language),
    quietFieldset(ctx, state),
    `<button type="submit">${escapeHtml(t.save)}</button>`,
    '</form>',
    `<section aria-labelledby="end-title"><h2 id="end-title">${escapeHtml(t.endTitle)}</h2>`,
    `<p>${escapeHtml(t.endHelp)}</p>`,
    `<form method="post" action="${escapeHtml(href(ctx, '/manage/end'))}">`,
    hidden('lang', ctx.lang),
    hidden('csrf', csrf),
    `<button type="submit" class="danger">${escapeHtml(t.end)}</button>`,
    '</form></section>',
  ].join('');
}

export function endedBody(ctx: SiteContext): string {
  return [
    `<h1>${escapeHtml(ctx.text.manage.endTitle)}</h1>`,
    `<p class="notice" role="status">${escapeHtml(ctx.text.manage.ended)}</p>`,
    `<p><a href="${escapeHtml(href(ctx, '/subscribe'))}">${escapeHtml(ctx.text.nav.subscribe)}</a></p>`,
  ].join('');
}
