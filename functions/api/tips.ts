/**
 * The tips' HTTP operations (api.md, "Tips and replies"): the public web form, and the officers' inbox: list,
 * count, read (audited), answer the way the tip came, assign, close, reopen, and the audit trail.
 *
 * Nothing here answers or logs a tipster's number or address, not even masked: a tip's `from` is its alias or
 * public handle, the contact is decrypted only to send an answer, and provider errors are recorded by kind, never
 * by their text (an SMS provider's message may quote the number it refused).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod';
import {
  TipAssignRequest,
  TipCountQuery,
  TipListQuery,
  TipNoteRequest,
  TipReplyRequest,
  TipRequest,
  type TipView,
} from '../../schemas/tips';
import { normaliseAddress } from '../core/addresses';
import { conflict, notFound, unprocessable, validationFailed } from '../core/errors';
import { replyLanguageOf, tipAnswerSubject, tipAnswerText } from '../core/keywords';
import { publishedVersions } from '../core/schedule';
import {
  ANONYMOUS,
  aliasOf,
  answerRoute,
  createTipIntake,
  MAX_ANSWERS,
  newAnswer,
  notifierTipReplies,
  REFERENCE,
  storeTip,
  type TipIntakeDeps,
  tipStoreOf,
} from '../core/tips';
import {
  ProviderError,
  type SocialAnswerQueue,
  type StoredTip,
  type TipAuditEntry,
  type TipIntake,
  type TipMessage,
  type TipSource,
  type TipStore,
} from '../ports';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, fieldErrors, json, parseWith, readBodyObject } from './http';
import { idempotencyKeyOf, idempotent } from './idempotency';
import { clientKey, secondsLeftInWindow, tooManyRequests } from './residents';

const HOUR = 3600;
/** Web tips one client (IP address) may send an hour: a witness with a lot to say, not a script. */
export const TIPS_PER_CLIENT_PER_HOUR = 10;
/** Web tips naming one contact an hour: nobody can have officers text a stranger's phone over and over. */
export const TIPS_PER_CONTACT_PER_HOUR = 5;
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const noStore = { 'cache-control': 'no-store' };

// ---------------------------------------------------------------- wiring

export { tipStoreOf };

/** What the tips need of the api's dependencies. */
export type TipDeps = Pick<ApiDeps, 'store' | 'pii' | 'clock' | 'newId' | 'logger' | 'config'>;

export const tipIntakeDeps = (deps: TipDeps): TipIntakeDeps => ({
  tips: tipStoreOf(deps.store),
  receipts: deps.store,
  alerts: deps.store,
  pii: deps.pii,
  clock: deps.clock,
  newId: deps.newId,
  logger: deps.logger,
  config: deps.config,
});

/** For the social reply helpers (the Meta webhook route, the X poller): where every channel's replies enter. */
export const tipIntakeFor = (deps: TipDeps): TipIntake => createTipIntake(tipIntakeDeps(deps));

/** For the same helpers: the public answers officers queued, to post and settle (functions/ports.ts). */
export const socialAnswersFor = (deps: Pick<ApiDeps, 'store'>): SocialAnswerQueue => tipStoreOf(deps.store);

// ---------------------------------------------------------------- views

const firstMessage = (tip: StoredTip) => ({
  direction: 'in' as const,
  text: tip.text,
  at: tip.receivedAt,
  author: tip.from,
});

const messageView = (m: TipMessage): TipView['messages'][number] => ({
  direction: m.direction,
  text: m.text,
  at: m.at,
  ...(m.author ? { author: m.author } : {}),
  ...(m.status ? { status: m.status } : {}),
  ...(m.reason ? { reason: m.reason } : {}),
  ...(m.public ? { public: true } : {}),
});

/** A tip as officers see it; `thread`: its answers too (a single read, audited), else only the tip itself. */
export function toTipView(tip: StoredTip, options: { thread: boolean }): TipView {
  return {
    id: tip.id,
    reference: tip.reference,
    ...(tip.alertId ? { alertId: tip.alertId } : {}),
    source: tip.source,
    from: tip.from,
    text: tip.text,
    receivedAt: tip.receivedAt,
    state: tip.state,
    ...(tip.assignee ? { assignee: tip.assignee } : {}),
    ...(tip.closedAt ? { closedAt: tip.closedAt } : {}),
    ...(tip.replyBy && !tip.contactErasedAt ? { replyBy: tip.replyBy } : {}),
    ...(tip.contactErasedAt ? { contactErased: true } : {}),
    messageCount: 1 + tip.answerCount,
    messages: [firstMessage(tip), ...(options.thread ? (tip.messages ?? []).map(messageView) : [])],
  };
}

// ---------------------------------------------------------------- the public web form

/** A version held for approval, or replaced while held, never went out. */

/** Whether `alertId` is an alert the public has seen: an Actual alert with a released version. */
async function isPublicAlert(deps: Pick<ApiDeps, 'store'>, alertId: string): Promise<boolean> {
  const found = await deps.store.getAlert(alertId);
  return publishedVersions(found?.versions ?? []).at(-1)?.content.status === 'Actual';
}

/** POST /v1/tips: a resident's tip from the web, answered 202 with its reference. */
export async function submitTip(deps: ApiDeps, { event, actor }: OperationInput): Promise<ApiResult> {
  const request = parseWith(TipRequest, readBodyObject(event));
  let contact: { channel: 'sms' | 'email'; address: string } | undefined;
  if (request.contact) {
    const normalised = normaliseAddress(request.contact.channel, request.contact.address);
    if (!normalised.ok) throw validationFailed([{ path: '/contact/address', message: normalised.message }]);
    contact = { channel: request.contact.channel, address: normalised.address };
  }
  const contactHash = contact ? await deps.pii.hash(contact.address) : undefined;
  const client = await clientKey(deps, event);
  const now = deps.clock.now();
  // Idempotency is scoped per client, and the fingerprint holds the contact's keyed hash, never the contact.
  return idempotent(
    deps.store,
    idempotencyKeyOf(event),
    {
      actor: { ...actor, id: `anonymous:${client}` },
      operation: 'submitTip',
      path: '/v1/tips',
      body: {
        ...request,
        ...(contact ? { contact: { channel: contact.channel, address: contactHash } } : {}),
      },
      now,
      newAlertId: deps.newId,
    },
    async (tipId) => {
      if (!(await deps.subscribers.rateLimitHit(`tip:client:${client}`, HOUR, TIPS_PER_CLIENT_PER_HOUR, now)))
        throw tooManyRequests(
          `At most ${TIPS_PER_CLIENT_PER_HOUR} tips an hour are taken from one network; try again later, or call the agency.`,
          secondsLeftInWindow(now, HOUR),
        );
      if (
        contactHash &&
        !(await deps.subscribers.rateLimitHit(
          `tip:contact:${contactHash}`,
          HOUR,
          TIPS_PER_CONTACT_PER_HOUR,
          now,
        ))
      )
        throw tooManyRequests(
          `At most ${TIPS_PER_CONTACT_PER_HOUR} tips an hour may leave the same contact; try again later.`,
          secondsLeftInWindow(now, HOUR),
        );
      if (request.alertId && !(await isPublicAlert(deps, request.alertId)))
        throw unprocessable(`There is no public alert ${request.alertId}.`, [
          { path: '/alertId', message: 'is not an alert the public has seen' },
        ]);
      const stored = await storeTip(tipIntakeDeps(deps), {
        tipId,
        source: 'web',
        from: contact ? await aliasOf(deps.pii, contact.address) : ANONYMOUS,
        text: request.text,
        language: replyLanguageOf(request.language),
        alertId: request.alertId,
        contact,
        actor: 'resident',
      });
      return json(202, { id: stored.tipId, reference: stored.reference });
    },
  );
}

// ---------------------------------------------------------------- officers

function parseQuery<S extends z.ZodType>(schema: S, event: APIGatewayProxyEventV2): z.output<S> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  return parsed.data;
}

/** The tip `idOrReference` names (its id, or `T-7KQ2`), or 404. */
async function loadTip(tips: TipStore, idOrReference: string | undefined): Promise<StoredTip> {
  const given = idOrReference ?? '';
  const missing = () => notFound(`There is no tip ${JSON.stringify(given.slice(0, 64))}.`);
  const id = REFERENCE.test(given) ? await tips.findReference(given) : ID.test(given) ? given : undefined;
  const tip = id ? await tips.getTip(id) : undefined;
  if (!tip) throw missing();
  return tip;
}

/** One line per change, for the logs' audit stream as the subscriptions write theirs; never a contact. */
function logTip(deps: Pick<ApiDeps, 'logger'>, action: string, fields: Record<string, unknown>): void {
  deps.logger.info(action, { audit: { action, ...fields } });
}

async function audited(deps: Pick<ApiDeps, 'logger'>, tips: TipStore, entry: TipAuditEntry): Promise<void> {
  await tips.appendAudit(entry);
  logTip(deps, entry.action, { actor: entry.actor, tipId: entry.tipId, detail: entry.detail });
}

export async function listTips(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const query = parseQuery(TipListQuery, event);
  try {
    // The schema's enum is built from the channel list at run time, so its type is only `string`.
    const page = await tipStoreOf(deps.store).listTips({
      ...query,
      source: query.source as TipSource | undefined,
    });
    return json(
      200,
      {
        items: page.items.map((t) => toTipView(t, { thread: false })),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      },
      noStore,
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidCursorError')
      throw validationFailed([{ path: '/query/cursor', message: 'is not a cursor this API gave out' }]);
    throw error;
  }
}

/** GET /v1/tips/count: the console's badge, one Query over the open tips only. */
export async function countTips(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const { state } = parseQuery(TipCountQuery, event);
  return json(200, { state, count: await tipStoreOf(deps.store).countOpen() }, noStore);
}

/** GET /v1/tips/{id}: the whole thread, and an audit entry saying who read it, written before it is answered. */
export async function getTip(deps: ApiDeps, { actor, params }: OperationInput): Promise<ApiResult> {
  const tips = tipStoreOf(deps.store);
  const tip = await loadTip(tips, params.id);
  await audited(deps, tips, {
    tipId: tip.id,
    at: deps.clock.now().toISOString(),
    actor: actor.id,
    action: 'tip.read',
  });
  return json(200, toTipView(tip, { thread: true }), noStore);
}

export async function getTipAudit(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const tips = tipStoreOf(deps.store);
  const tip = await loadTip(tips, params.id);
  return json(200, { tipId: tip.id, entries: await tips.listAudit(tip.id) }, noStore);
}

/** Why a send failed, by kind: a provider's own message may quote the address it refused. */
const failureReason = (error: unknown) =>
  error instanceof ProviderError
    ? error.kind === 'permanent'
      ? 'the provider refused the message'
      : 'the provider could not be reached; the answer was not sent'
    : 'the answer could not be sent';

/** POST /v1/tips/{id}/replies: sent back the way the tip came (409 when it cannot be), recorded in the thread. */
export async function replyToTip(
  deps: ApiDeps,
  { event, actor, params }: OperationInput,
): Promise<ApiResult> {
  const request = parseWith(TipReplyRequest, readBodyObject(event));
  const tips = tipStoreOf(deps.store);
  const tip = await loadTip(tips, params.id);
  const now = deps.clock.now();
  return idempotent(
    deps.store,
    idempotencyKeyOf(event),
    {
      actor,
      operation: 'replyToTip',
      path: `/v1/tips/${tip.id}/replies`,
      body: request,
      now,
      newAlertId: deps.newId,
    },
    async (messageId) => {
      if (tip.state === 'closed') throw conflict('The tip is closed: reopen it to answer.');
      const route = await answerRoute({ tips, pii: deps.pii }, tip, { public: request.public === true });
      if ('cannot' in route) throw conflict(route.cannot);
      const at = now.toISOString();
      const appended = await tips.appendAnswer(
        tip.id,
        newAnswer(messageId, request.text, at, actor.id, route),
        {
          maxAnswers: MAX_ANSWERS,
        },
      );
      if (appended === 'missing') throw notFound(`There is no tip ${tip.id}.`);
      if (appended === 'closed') throw conflict('The tip is closed: reopen it to answer.');
      if (appended === 'full')
        throw conflict(`The thread holds ${MAX_ANSWERS} answers already: continue by phone or a new tip.`);

      const send = notifierTipReplies(deps.notifier, tipStoreOf(deps.store));
      const ctx = { agency: deps.config.agencyName, language: replyLanguageOf(tip.language) };
      const wrapped = tipAnswerText(ctx, tip.reference, request.text);
      let outcome: Pick<TipMessage, 'status' | 'reason'> = {
        status: route.via === 'public-reply' ? 'queued' : 'sent',
      };
      try {
        if (route.via === 'public-reply')
          await send.social({
            tipId: tip.id,
            messageId,
            channel: route.channel,
            inReplyTo: route.inReplyTo,
            postId: tip.inReplyTo,
            alertId: tip.alertId,
            text: request.text,
            at,
          });
        else if (route.via === 'sms') await send.sms({ address: route.address, text: wrapped });
        else
          await send.email({
            address: route.address,
            subject: tipAnswerSubject(ctx, tip.reference),
            text: wrapped,
          });
      } catch (error) {
        outcome = { status: 'failed', reason: failureReason(error) };
        deps.logger.warn('tip answer not sent', {
          tipId: tip.id,
          via: route.via,
          error: error instanceof Error ? error.name : 'unknown',
        });
      }
      if (outcome.status !== 'queued') await tips.setAnswerStatus(tip.id, messageId, { ...outcome, at });
      await audited(deps, tips, {
        tipId: tip.id,
        at,
        actor: actor.id,
        action: 'tip.replied',
        detail: `${route.via === 'public-reply' ? `public reply on ${route.channel}` : `by ${route.via}`}: ${outcome.status}`,
      });
      const updated = (await tips.getTip(tip.id)) ?? tip;
      return json(201, toTipView(updated, { thread: true }));
    },
  );
}

export async function assignTip(deps: ApiDeps, { event, actor, params }: OperationInput): Promise<ApiResult> {
  const { to } = parseWith(TipAssignRequest, readBodyObject(event));
  const tips = tipStoreOf(deps.store);
  const tip = await loadTip(tips, params.id);
  const at = deps.clock.now().toISOString();
  const updated = await tips.setAssignee(tip.id, to ?? undefined, at);
  if (!updated) throw notFound(`There is no tip ${tip.id}.`);
  await audited(deps, tips, {
    tipId: tip.id,
    at,
    actor: actor.id,
    action: 'tip.assigned',
    detail: to ? `to ${to}` : 'unassigned',
  });
  return json(200, toTipView(updated, { thread: true }));
}

function stateChange(to: 'open' | 'closed') {
  const from = to === 'closed' ? 'open' : 'closed';
  return async (deps: ApiDeps, { event, actor, params }: OperationInput): Promise<ApiResult> => {
    const { note } = parseWith(TipNoteRequest, readBodyObject(event, { optional: true }));
    const tips = tipStoreOf(deps.store);
    const tip = await loadTip(tips, params.id);
    const at = deps.clock.now().toISOString();
    const changed = await tips.setState(tip.id, { from, to, at });
    if (changed === 'missing') throw notFound(`There is no tip ${tip.id}.`);
    if (changed === 'unchanged') throw conflict(`The tip is already ${to}.`);
    await audited(deps, tips, {
      tipId: tip.id,
      at,
      actor: actor.id,
      action: to === 'closed' ? 'tip.closed' : 'tip.reopened',
      ...(note ? { detail: note } : {}),
    });
    return json(200, toTipView(changed, { thread: true }));
  };
}

export const closeTip = stateChange('closed');
export const reopenTip = stateChange('open');
