/**
 * The residents' own forms: sign up (address, zones, language, quiet hours → a code → confirmed) and manage (an
 * address → a code → a 30-minute session in an HttpOnly cookie → change or end). Sign-up runs the API's own
 * operations on the form's values; manage runs manage-subscription.ts. Nothing here is cached: every answer is
 * about one person.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiDeps, OperationInput } from '../api/alerts';
import { type ApiResult, header } from '../api/http';
import {
  changeSubscription,
  checkCsrf,
  csrfTokenFor,
  endSubscription,
  MANAGE_SESSION_MINUTES,
  openManageSession,
  readManageSession,
  sendManageCode,
} from '../api/manage-subscription';
import { clientKey } from '../api/residents';
import { confirmSubscription, requestSubscription, WrongCode } from '../api/subscriptions';
import { webConsentText } from '../core/consent';
import { HttpProblem } from '../core/errors';
import { emptyForm, type FormState } from './components';
import { field, foreignForm, fromThisSite, MANAGE_COOKIE, readForm } from './forms';
import { href, page, type SiteContext } from './layout';
import { endedBody, manageSettingsBody, manageStartBody, settingsState } from './pages/manage';
import { codeBody, confirmedBody, subscribeBody } from './pages/subscribe';
import { contextFor, messagePage, refusalState, runAsJson } from './respond';

/** The choices of the zones, language and quiet-hours fields, as the form sent them. */
function choices(form: URLSearchParams) {
  return {
    zones: form
      .getAll('zones')
      .map((z) => z.trim())
      .filter(Boolean),
    language: field(form, 'language'),
    quietFrom: field(form, 'quietFrom'),
    quietTo: field(form, 'quietTo'),
  };
}

/** Both times, neither (no quiet hours), or a refusal naming the pair. */
function quietHoursOf(c: { quietFrom?: string | undefined; quietTo?: string | undefined }) {
  if (!c.quietFrom && !c.quietTo) return { ok: true as const, value: null };
  if (c.quietFrom && c.quietTo) return { ok: true as const, value: { from: c.quietFrom, to: c.quietTo } };
  return { ok: false as const };
}

/** Every form field named by the API's JSON pointers: the quiet hours' two times are one field on the page. */
const FIELD_NAMES = { quietHours: 'quietHours' };

async function guardedForm(deps: ApiDeps, event: APIGatewayProxyEventV2) {
  const form = readForm(event);
  const ctx = contextFor(deps, event, field(form, 'lang'));
  const foreign = fromThisSite(event, deps.config.publicBaseUrl)
    ? undefined
    : messagePage(ctx, foreignForm().status, ctx.text.errors.title, ctx.text.errors.form);
  return { form, ctx, foreign };
}

// ---------------------------------------------------------------- sign-up

export async function subscribePage(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const ctx = contextFor(deps, event);
  return signUpForm(deps, ctx, emptyForm(), 200);
}

function signUpForm(deps: ApiDeps, ctx: SiteContext, state: FormState, status: number): ApiResult {
  return page(ctx, {
    title: ctx.text.subscribe.title,
    body: subscribeBody(ctx, state, deps.zones, webConsentText(ctx.lang)),
    script: true,
    status,
    // The empty form is the same for everyone; one with a resident's values in it is theirs alone.
    cache: status === 200 && Object.keys(state.values).length === 0 ? 'public' : 'private',
  });
}

export async function subscribeForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const { form, ctx, foreign } = await guardedForm(deps, input.event);
  if (foreign) return foreign;
  const values = {
    channel: field(form, 'channel') ?? 'sms',
    address: field(form, 'address'),
    ...choices(form),
  };
  const quiet = quietHoursOf(values);
  if (!quiet.ok)
    return signUpForm(
      deps,
      ctx,
      { values, errors: new Map([['quietHours', ctx.text.errors.quietHours]]) },
      400,
    );
  const outcome = await runAsJson(requestSubscription, deps, input, {
    channel: values.channel,
    address: values.address ?? '',
    zones: values.zones,
    language: values.language ?? ctx.lang,
    ...(quiet.value ? { quietHours: quiet.value } : {}),
  });
  if (!outcome.ok)
    return signUpForm(
      deps,
      ctx,
      refusalState(ctx, outcome.problem, values, FIELD_NAMES),
      outcome.problem.status,
    );
  return codePage(deps, ctx, emptyForm(), {
    address: values.address ?? '',
    masked: String(outcome.body.address),
    expiresAt: String(outcome.body.expiresAt),
    action: '/subscribe/confirm',
    startAgain: '/subscribe',
  });
}

function codePage(
  deps: ApiDeps,
  ctx: SiteContext,
  state: FormState,
  sent: Parameters<typeof codeBody>[2],
  status = 200,
): ApiResult {
  return page(ctx, {
    title: ctx.text.code.title,
    body: codeBody(ctx, state, sent, deps.config.timeZone),
    cache: 'private',
    status,
  });
}

/** The code form's hidden fields, as the code page wrote them. */
const sentOf = (form: URLSearchParams, action: string, startAgain: string) => ({
  address: form.get('address') ?? '',
  masked: form.get('masked') ?? '',
  // Only shown ("it works until …"): a damaged value reads as now rather than failing the page.
  expiresAt: validInstant(form.get('expiresAt')) ?? new Date().toISOString(),
  action,
  startAgain,
});

const validInstant = (value: string | null): string | undefined =>
  value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;

/** A wrong code names its tries left, in the page's language. */
function codeRefusal(ctx: SiteContext, problem: HttpProblem): FormState {
  const state = refusalState(ctx, problem, {});
  // The manage path throws the WrongCode itself; the sign-up's JSON answer carries the tries in its body.
  const triesLeft =
    problem instanceof WrongCode
      ? problem.triesLeft
      : (problem as HttpProblem & { extra?: { triesLeft?: number } }).extra?.triesLeft;
  if (problem.status === 422 && typeof triesLeft === 'number')
    state.errors.set('code', `${ctx.text.errors.code} ${ctx.text.errors.codeTries(triesLeft)}`);
  return state;
}

export async function confirmForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const { form, ctx, foreign } = await guardedForm(deps, input.event);
  if (foreign) return foreign;
  const sent = sentOf(form, '/subscribe/confirm', '/subscribe');
  const outcome = await runAsJson(confirmSubscription, deps, input, {
    address: sent.address,
    code: field(form, 'code') ?? '',
  });
  if (!outcome.ok)
    return codePage(deps, ctx, codeRefusal(ctx, outcome.problem), sent, outcome.problem.status);
  const confirmed = outcome.body as { zones: string[]; quietHours?: { from: string; to: string } };
  return page(ctx, {
    title: ctx.text.confirmed.title,
    body: confirmedBody(ctx, confirmed, deps.zones),
    cache: 'private',
  });
}

// ---------------------------------------------------------------- manage

function sessionCookie(deps: ApiDeps, value: string, maxAgeSeconds: number): string {
  // Secure wherever the public site is https (AWS); the embedded mode may be plain http on this machine.
  const secure = deps.config.publicBaseUrl.startsWith('https:') ? '; Secure' : '';
  return `${MANAGE_COOKIE}=${value}; Path=/manage; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
}

function sessionTokenOf(event: APIGatewayProxyEventV2): string | undefined {
  const cookies = [...(event.cookies ?? []), ...(header(event, 'cookie')?.split(';') ?? [])];
  for (const cookie of cookies) {
    const [name, ...rest] = cookie.trim().split('=');
    if (name === MANAGE_COOKIE) return rest.join('=');
  }
  return undefined;
}

async function settingsPage(
  deps: ApiDeps,
  ctx: SiteContext,
  session: { token: string; subscriber: Parameters<typeof settingsState>[0] },
  state: FormState,
  status = 200,
  notice?: string,
): Promise<ApiResult> {
  const csrf = await csrfTokenFor(deps, session.token);
  return page(ctx, {
    title: ctx.text.manage.settingsTitle,
    body: manageSettingsBody(ctx, session.subscriber, state, deps.zones, csrf, notice),
    script: true,
    cache: 'private',
    status,
  });
}

const startPage = (ctx: SiteContext, state: FormState, status = 200, notice?: string, headers = {}) =>
  page(ctx, {
    title: ctx.text.manage.title,
    body: manageStartBody(ctx, state, notice),
    cache: 'private',
    status,
    headers,
  });

export async function managePage(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const ctx = contextFor(deps, event);
  const token = sessionTokenOf(event);
  const session = token ? await readManageSession(deps, token) : undefined;
  if (!token || !session) return startPage(ctx, emptyForm());
  return settingsPage(
    deps,
    ctx,
    { token, subscriber: session.subscriber },
    settingsState(session.subscriber),
  );
}

export async function manageCodeForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const { form, ctx, foreign } = await guardedForm(deps, input.event);
  if (foreign) return foreign;
  const address = field(form, 'address') ?? '';
  try {
    const sent = await sendManageCode(deps, { address }, await clientKey(deps, input.event));
    return codePage(deps, ctx, emptyForm(), {
      address,
      masked: sent.address,
      expiresAt: sent.expiresAt,
      action: '/manage/code',
      startAgain: '/manage',
    });
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error;
    return startPage(ctx, refusalState(ctx, error, { address }), error.status);
  }
}

export async function manageSessionForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const { form, ctx, foreign } = await guardedForm(deps, input.event);
  if (foreign) return foreign;
  const sent = sentOf(form, '/manage/code', '/manage');
  try {
    const opened = await openManageSession(
      deps,
      { address: sent.address, code: field(form, 'code') ?? '' },
      await clientKey(deps, input.event),
    );
    // Post/redirect/get: reloading the settings page does not send the code again.
    return {
      statusCode: 303,
      headers: {
        location: href(ctx, '/manage'),
        'cache-control': 'no-store',
        'set-cookie': sessionCookie(deps, opened.token, MANAGE_SESSION_MINUTES * 60),
      },
      body: '',
    };
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error;
    return codePage(deps, ctx, codeRefusal(ctx, error), sent, error.status);
  }
}

/** The session and its CSRF token, or the start page saying the session is over. */
async function sessionFor(
  deps: ApiDeps,
  event: APIGatewayProxyEventV2,
  form: URLSearchParams,
  ctx: SiteContext,
) {
  const token = sessionTokenOf(event);
  const session = token ? await readManageSession(deps, token) : undefined;
  if (!token || !session || !(await checkCsrf(deps, token, field(form, 'csrf') ?? '')))
    return {
      refused: startPage(ctx, emptyForm(), 403, ctx.text.manage.expired, {
        'set-cookie': sessionCookie(deps, '', 0),
      }),
    };
  return { token, subscriber: session.subscriber };
}

export async function manageSettingsForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const { form, ctx, foreign } = await guardedForm(deps, input.event);
  if (foreign) return foreign;
  const session = await sessionFor(deps, input.event, form, ctx);
  if ('refused' in session) return session.refused as ApiResult;
  const values = choices(form);
  const quiet = quietHoursOf(values);
  if (!quiet.ok)
    return settingsPage(
      deps,
      ctx,
      session,
      { values, errors: new Map([['quietHours', ctx.text.errors.quietHours]]) },
      400,
    );
  try {
    const changed = await changeSubscription(
      deps,
      session.subscriber,
      { zones: values.zones, language: values.language ?? ctx.lang, quietHours: quiet.value },
      `web:${await clientKey(deps, input.event)}`,
    );
    return settingsPage(
      deps,
      ctx,
      { token: session.token, subscriber: changed },
      settingsState(changed),
      200,
      ctx.text.manage.saved,
    );
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error;
    return settingsPage(deps, ctx, session, refusalState(ctx, error, values, FIELD_NAMES), error.status);
  }
}

export async function manageEndForm(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const { form, ctx, foreign } = await guardedForm(deps, input.event);
  if (foreign) return foreign;
  const session = await sessionFor(deps, input.event, form, ctx);
  if ('refused' in session) return session.refused as ApiResult;
  await endSubscription(deps, session.subscriber, `web:${await clientKey(deps, input.event)}`);
  return page(ctx, {
    title: ctx.text.manage.endTitle,
    body: endedBody(ctx),
    cache: 'private',
    headers: { 'set-cookie': sessionCookie(deps, '', 0) },
  });
}
