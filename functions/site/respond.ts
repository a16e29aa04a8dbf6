/**
 * What every site route shares: the page's language from the request, a cached page's ETag, the error pages, and
 * running one of the API's operations on a form's values.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiDeps, OperationInput } from '../api/alerts';
import { bodyEtag } from '../api/cap';
import { type ApiResult, header, ifNoneMatchHits } from '../api/http';
import { HttpProblem } from '../core/errors';
import { escapeHtml } from '../core/render';
import { errorMessage, type FormState } from './components';
import { asJsonEvent, errorsByField } from './forms';
import { pickLanguage, siteLanguages } from './i18n';
import { page, type SiteContext, siteContext } from './layout';

/** The page's language: `?lang=`, else a form's hidden `lang`, else Accept-Language, else the agency's first. */
export function contextFor(deps: ApiDeps, event: APIGatewayProxyEventV2, formLang?: string): SiteContext {
  const asked = event.queryStringParameters?.lang ?? formLang;
  const languages = siteLanguages(deps.config.languages);
  const lang = pickLanguage(asked, header(event, 'accept-language'), languages);
  const inUrl = asked !== undefined && languages.includes(asked.toLowerCase().split('-')[0] ?? '');
  return siteContext({ ...deps.config, languages }, lang, pagePath(event), inUrl);
}

/**
 * The page a request stands for: its own path for a GET; for a form's answer, the page the form is on, so that the
 * language switcher and the alternates link to a page that exists (a form's path answers POST only).
 */
function pagePath(event: APIGatewayProxyEventV2): string {
  const path = event.rawPath;
  if (event.requestContext.http.method.toUpperCase() === 'GET') return path;
  if (path.startsWith('/manage')) return '/manage';
  if (path.startsWith('/subscribe')) return '/subscribe';
  return path.replace(/\/tips$/, '');
}

/** A public page answers If-None-Match with 304, like the feeds: its ETag is its body's hash. */
export function withEtag(event: APIGatewayProxyEventV2, result: ApiResult): ApiResult {
  if (result.statusCode !== 200 || !result.body) return result;
  const tag = bodyEtag(result.body);
  const headers = { ...result.headers, etag: tag };
  if (ifNoneMatchHits(event, tag)) return { statusCode: 304, headers, body: '' };
  return { ...result, headers };
}

/**
 * A site operation whose failures are pages too: a refusal the form could not show beside a field (a body too big, of
 * the wrong type) and anything unexpected answer as HTML in the page's language, never as the API's JSON.
 */
export function sitePage(operation: Operation): Operation {
  return async (deps, input) => {
    try {
      return await operation(deps, input);
    } catch (error) {
      const ctx = contextFor(deps, input.event);
      if (error instanceof HttpProblem)
        return messagePage(
          ctx,
          error.status,
          ctx.text.errors.title,
          error.status === 404 ? ctx.text.errors.notFound : ctx.text.errors.form,
        );
      deps.logger.error('site request failed', {
        path: input.event.rawPath,
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      });
      return messagePage(ctx, 500, ctx.text.errors.serverTitle, ctx.text.errors.server);
    }
  };
}

export function messagePage(ctx: SiteContext, status: number, title: string, message: string): ApiResult {
  return page(ctx, {
    title,
    status,
    cache: 'private',
    body: `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`,
  });
}

export const notFoundPage = (ctx: SiteContext) =>
  messagePage(ctx, 404, ctx.text.errors.notFoundTitle, ctx.text.errors.notFound);

export type Operation = (deps: ApiDeps, input: OperationInput) => Promise<ApiResult>;

/** Runs an API operation on a form's values as the JSON body it takes; a refusal comes back as the HttpProblem. */
export async function runAsJson(
  operation: Operation,
  deps: ApiDeps,
  input: OperationInput,
  body: unknown,
): Promise<
  { ok: true; status: number; body: Record<string, unknown> } | { ok: false; problem: HttpProblem }
> {
  try {
    const result = await operation(deps, { ...input, event: asJsonEvent(input.event, body) });
    const parsed = result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {};
    const status = result.statusCode ?? 200;
    if (status < 400) return { ok: true, status, body: parsed };
    // An operation that answers a refusal itself (the wrong code, with its tries left) is turned back into one.
    const problem = new HttpProblem(
      status,
      String(parsed.type ?? 'error'),
      String(parsed.title ?? ''),
      String(parsed.detail ?? ''),
      (parsed.errors as HttpProblem['errors']) ?? [],
    );
    return { ok: false, problem: Object.assign(problem, { extra: parsed }) };
  } catch (error) {
    if (error instanceof HttpProblem) return { ok: false, problem: error };
    throw error;
  }
}

/**
 * A refusal as the form shows it: each field's message in the page's language, beside the field; a limit or an
 * expired code as a message about the whole form.
 */
export function refusalState(
  ctx: SiteContext,
  problem: HttpProblem,
  values: FormState['values'],
  fieldNames: Record<string, string> = {},
): FormState {
  const errors = new Map<string, string>();
  if (problem.status === 429) errors.set('', ctx.text.errors.tooMany);
  else if (problem.status === 410) errors.set('', ctx.text.errors.codeGone);
  for (const [name, message] of errorsByField(problem)) {
    const shown = fieldNames[name] ?? name;
    if (!errors.has(shown)) errors.set(shown, errorMessage(ctx.text, shown, message));
  }
  if (errors.size === 0) errors.set('', problem.detail || ctx.text.errors.server);
  return { values, errors };
}
