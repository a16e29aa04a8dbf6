/**
 * The site's forms: an HTML form posts `application/x-www-form-urlencoded`; the page turns it into the very JSON
 * request the API takes and runs the API's own operation on it, so a form is checked, rate limited and audited
 * exactly as a call to /v1/… is, and the answer's field errors are shown beside the fields they name.
 *
 * Cross-site request forgery: a form is taken only from a page of this site. Browsers say where a request came
 * from in `Origin` and `Sec-Fetch-Site`, which a page cannot set; a request that names another site is refused.
 * That works on pages a CDN caches for everyone, where no per-visitor token can be. The one form that acts on
 * something a cookie unlocks (manage) also carries a token bound to that cookie (manage-subscription.ts).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { bodyBytes, header } from '../api/http';
import { HttpProblem, payloadTooLarge, unsupportedMediaType } from '../core/errors';

/** The cookie that holds a manage session (Path=/manage); CloudFront forwards it to /manage* and nowhere else. */
export const MANAGE_COOKIE = 'herald_manage';

/**
 * A form's fields are short; the tip's text is the longest: 2,000 characters, each up to 3 UTF-8 bytes and each byte
 * 3 characters once percent-encoded (18 KB of '€').
 */
export const MAX_FORM_BYTES = 32 * 1024;

export function readForm(event: APIGatewayProxyEventV2): URLSearchParams {
  const type = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw unsupportedMediaType('application/x-www-form-urlencoded');
  const bytes = bodyBytes(event);
  if (bytes.length > MAX_FORM_BYTES) throw payloadTooLarge(MAX_FORM_BYTES);
  return new URLSearchParams(bytes.toString('utf8'));
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
};

/**
 * Whether a form post came from this site: `Sec-Fetch-Site` other than same-origin/none, or an `Origin` that is
 * neither this host nor the public site's, is another site's page posting here.
 */
export function fromThisSite(event: APIGatewayProxyEventV2, publicBaseUrl: string): boolean {
  const site = header(event, 'sec-fetch-site')?.toLowerCase();
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = header(event, 'origin');
  if (origin === undefined) return true;
  const from = origin === 'null' ? undefined : hostOf(origin);
  if (!from) return false;
  const own = [header(event, 'host')?.toLowerCase(), hostOf(publicBaseUrl)].filter(Boolean);
  return own.includes(from);
}

export const foreignForm = () =>
  new HttpProblem(403, 'forbidden', 'Forbidden', 'This form did not come from a page of this site.');

/** The same request as JSON, for the API operation that takes it. Any Idempotency-Key a form cannot send is gone. */
export function asJsonEvent(event: APIGatewayProxyEventV2, body: unknown): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).filter(
      ([name]) => !/^(content-type|content-length|idempotency-key)$/i.test(name),
    ),
  );
  return {
    ...event,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** A form field's trimmed value, or undefined when empty or absent. */
export const field = (form: URLSearchParams, name: string): string | undefined => {
  const value = form.get(name)?.trim();
  return value ? value : undefined;
};

/** Field errors by the top-level field they name: `/zones/2` and `/contact/address` speak for `zones`, `contact`. */
export function errorsByField(problem: HttpProblem): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of problem.errors ?? []) {
    const name = e.path.split('/')[1] ?? '';
    if (!out.has(name)) out.set(name, e.message);
  }
  return out;
}
