/**
 * The site's public reads and the tip form: GET /alerts, GET /alerts/{id}, POST /alerts/{id}/tips, GET /privacy
 * and the two static files. The alerts are the feeds' (feedEntries), so the page, the feeds and CAP agree.
 */
import type { ApiDeps, OperationInput } from '../api/alerts';
import { feedEntries } from '../api/feeds';
import { type ApiResult, ifNoneMatchHits } from '../api/http';
import { submitTip } from '../api/tips';
import { drawCard } from '../channel/card-image';
import { channelOfAddress } from '../core/addresses';
import { webConsentText } from '../core/consent';
import type { StoredVersion } from '../core/model';
import { escapeHtml, languagesOf } from '../core/render';
import { publishedVersions } from '../core/schedule';
import { assetAt } from './assets';
import { emptyForm, type FormState } from './components';
import { viewImage } from './counters';
import { field, foreignForm, fromThisSite, readForm } from './forms';
import { href, page } from './layout';
import { alertPageBody } from './pages/alert';
import { alertsBody } from './pages/alerts';
import { privacyBody } from './pages/privacy';
import { contextFor, messagePage, notFoundPage, refusalState, runAsJson, withEtag } from './respond';

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export async function alertsPage(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const ctx = contextFor(deps, event);
  const entries = await feedEntries(deps);
  const body = alertsBody(
    ctx,
    entries.map((e) => e.version),
    deps.config,
    deps.zones,
  );
  return withEtag(event, page(ctx, { title: ctx.text.alerts.title, body }));
}

/** The versions of an Actual alert the public has seen, or undefined: nothing else is there for the public. */
export async function publicVersions(deps: Pick<ApiDeps, 'store'>, id: string) {
  if (!ALERT_ID.test(id)) return undefined;
  const found = await deps.store.getAlert(id);
  const released = publishedVersions(found?.versions ?? []);
  return released.at(-1)?.content.status === 'Actual' ? released : undefined;
}

async function renderAlert(
  deps: ApiDeps,
  input: OperationInput,
  tip: FormState,
  status = 200,
  countsView = false,
) {
  const ctx = contextFor(deps, input.event, tip.values.lang as string | undefined);
  const released = await publicVersions(deps, input.params.id ?? '');
  if (!released) return notFoundPage(ctx);
  const shown = alertPageBody(ctx, released, deps.config, deps.zones, tip);
  return page(ctx, {
    title: shown.title,
    head: shown.head,
    // Only the page a GET shows counts a view (./counters.ts), not the page again after a refused tip.
    body: countsView
      ? `${shown.body}${viewImage(released[0]!.alertId, input.event.queryStringParameters?.from)}`
      : shown.body,
    status,
    cache: status === 200 && tip.errors.size === 0 ? 'public' : 'private',
  });
}

export async function alertPage(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  return withEtag(input.event, await renderAlert(deps, input, emptyForm(), 200, true));
}

/**
 * The alert card of the current version, as Instagram gets it, in the page's language when the alert has it: what a
 * shared link shows (og:image) when the alert has no image of its own. Drawn on request (the renderer is loaded on the
 * first card) and cached like the page: a version's card in a language never changes, so its ETag says both.
 */
export async function alertCard(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const ctx = contextFor(deps, input.event);
  const released = await publicVersions(deps, input.params.id ?? '');
  const current = released?.at(-1);
  if (!current) return notFoundPage(ctx);
  const language = cardLanguage(current, ctx.lang);
  const headers = {
    'content-type': 'image/jpeg',
    'cache-control': 'public, max-age=60',
    'x-content-type-options': 'nosniff',
    etag: `"card-${current.version}-${language}"`,
    ...(ctx.langInUrl ? {} : { vary: 'Accept-Language' }),
  };
  if (ifNoneMatchHits(input.event, headers.etag)) return { statusCode: 304, headers, body: '' };
  const card = await drawCard(current, deps.config.agencyName, language);
  return {
    statusCode: 200,
    headers,
    body: Buffer.from(card.bytes).toString('base64'),
    isBase64Encoded: true,
  };
}

/** The language the card is drawn in: the page's when the alert is written in it, else the alert's own. */
const cardLanguage = (version: StoredVersion, lang: string) =>
  languagesOf(version.content).find((l) => l.toLowerCase().split('-')[0] === lang) ??
  version.content.language;

export async function alertTipForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const form = readForm(input.event);
  const values = {
    lang: field(form, 'lang'),
    text: form.get('text') ?? '',
    contactChannel: field(form, 'contactChannel') ?? 'none',
    contact: field(form, 'contact'),
  };
  const ctx = contextFor(deps, input.event, values.lang);
  if (!fromThisSite(input.event, deps.config.publicBaseUrl))
    return messagePage(ctx, foreignForm().status, ctx.text.errors.title, ctx.text.errors.form);
  const alertId = input.params.id ?? '';
  if (!(await publicVersions(deps, alertId))) return notFoundPage(ctx);
  // A contact typed without choosing how to answer is answered the way it is written (a number or an address).
  const channel =
    values.contactChannel === 'sms' || values.contactChannel === 'email'
      ? values.contactChannel
      : values.contact
        ? channelOfAddress(values.contact)
        : undefined;
  const body = {
    text: values.text,
    alertId,
    language: ctx.lang,
    ...(channel && values.contact ? { contact: { channel, address: values.contact } } : {}),
  };
  if (channel && !values.contact)
    return renderAlert(deps, input, { values, errors: new Map([['contact', ctx.text.errors.address]]) }, 400);
  const outcome = await runAsJson(submitTip, deps, input, body);
  if (!outcome.ok) {
    const state = refusalState(ctx, outcome.problem, values);
    return renderAlert(deps, input, state, outcome.problem.status);
  }
  const t = ctx.text.tip;
  const reference = String(outcome.body.reference ?? '');
  return page(ctx, {
    title: t.thanksTitle,
    cache: 'private',
    body: [
      `<h1>${escapeHtml(t.thanksTitle)}</h1>`,
      `<p class="notice" role="status">${escapeHtml(t.thanks(reference))}</p>`,
      `<p><a href="${escapeHtml(href(ctx, `/alerts/${encodeURIComponent(alertId)}`))}">${escapeHtml(t.back)}</a></p>`,
    ].join(''),
  });
}

export async function privacyPage(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const ctx = contextFor(deps, event);
  return withEtag(
    event,
    page(ctx, { title: ctx.text.privacy.title, body: privacyBody(ctx, webConsentText(ctx.lang)) }),
  );
}

export async function siteAsset(_deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const asset = assetAt(event.rawPath);
  if (!asset)
    return { statusCode: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };
  return {
    statusCode: 200,
    headers: {
      'content-type': asset.contentType,
      // The name holds the content's hash: a new stylesheet is a new name, so this one never changes.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    },
    body: asset.body,
  };
}
