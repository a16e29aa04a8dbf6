/**
 * GET /alerts/{id}: the alert's public page, where every channel's "full alert" link points when the officer
 * gave no link of their own. The current version of an Actual alert, as the email's HTML shows it; anything
 * else (unknown, an exercise, a test, or nothing released yet) is not there for the public.
 */
import { notFound } from '../core/errors';
import { alertDocument, localise } from '../core/render';
import { publishedVersions } from '../core/schedule';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, etag, header } from './http';

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A version held for approval, or replaced while held, never went out: the page shows what did. */

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'public, max-age=60',
  'x-content-type-options': 'nosniff',
  // Alert text is escaped; the policy is the second lock: no script runs on this page whatever it holds.
  'content-security-policy': "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'",
};

export async function alertPage(deps: ApiDeps, { event, params }: OperationInput): Promise<ApiResult> {
  const id = params.id ?? '';
  const missing = () => notFound(`There is no public alert ${JSON.stringify(id)}.`);
  if (!ALERT_ID.test(id)) throw missing();
  const found = await deps.store.getAlert(id);
  const current = publishedVersions(found?.versions ?? []).at(-1);
  if (current?.content.status !== 'Actual') throw missing();

  const tag = etag(current.version);
  const headers = { ...PAGE_HEADERS, etag: tag, 'content-language': current.content.language };
  const ifNoneMatch = header(event, 'if-none-match');
  if (ifNoneMatch?.split(',').some((t) => t.trim().replace(/^W\//, '') === tag))
    return { statusCode: 304, headers, body: '' };
  // ?lang=ca shows a translation; a language the alert is not written in shows its own.
  const l = localise(current, deps.config, event.queryStringParameters?.lang);
  return {
    statusCode: 200,
    headers: { ...headers, 'content-language': l.content.language },
    body: alertDocument(l, deps.config.agencyName),
  };
}
