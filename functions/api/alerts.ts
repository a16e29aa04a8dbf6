/**
 * The alert operations behind the HTTP routes. Each reads, lets the pure core decide, and writes with
 * conditions; the version item is the serialization point (a version number can be written once).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { AlertDraft, ApproveBody, CancelBody, type Channel, UpdatePatch } from '../../schemas/alert';
import { type Delivery, DeliveryStatus } from '../../schemas/delivery';
import { unfilledPlaceholders } from '../../schemas/templates';
import { safeText } from '../../schemas/text';
import {
  cancelAlert,
  newAlert,
  toApiAlert,
  toApiVersion,
  updateAlert,
  type VersionContext,
} from '../core/alerts';
import {
  conflict,
  forbidden,
  notFound,
  preconditionFailed,
  preconditionRequired,
  unprocessable,
  validationFailed,
} from '../core/errors';
import { SOCIAL_CHANNELS } from '../core/fanout';
import type { Actor, Receipt, StoredVersion } from '../core/model';
import type { ZoneCatalog } from '../core/zones';
import type {
  AlertStore,
  BulkStore,
  Clock,
  IdempotencyStore,
  Notifier,
  PiiCipher,
  QueuePort,
  ReceiptFilter,
  ReceiptStore,
  SubscriberStore,
} from '../ports';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';
import { maskRecipient } from '../shared/mask';
import {
  type ApiResult,
  etag,
  fieldErrors,
  header,
  ifMatchSatisfied,
  json,
  parseWith,
  readBodyObject,
} from './http';
import { idempotencyKeyOf, idempotent } from './idempotency';

export interface ApiDeps {
  /** BulkStore: the deliveries listing reads receipts a page at a time, and the subscriber fan-out's plans. */
  store: AlertStore & ReceiptStore & IdempotencyStore & BulkStore;
  /** Residents and media outlets (functions/api/residents.ts). */
  subscribers: SubscriberStore;
  pii: PiiCipher;
  zones: ZoneCatalog;
  /** Double opt-in codes and keyword replies. */
  notifier: Notifier;
  queue: QueuePort;
  config: HeraldConfig;
  clock: Clock;
  newId: () => string;
  logger: LoggerLike;
}

export interface OperationInput {
  event: APIGatewayProxyEventV2;
  actor: Actor;
  params: Record<string, string>;
}

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

async function loadVersions(deps: ApiDeps, id: string | undefined): Promise<StoredVersion[]> {
  if (!id || !ALERT_ID.test(id)) throw notFound(`There is no alert ${JSON.stringify(id ?? '')}.`);
  const found = await deps.store.getAlert(id);
  if (!found || found.versions.length === 0) throw notFound(`There is no alert ${id}.`);
  return found.versions;
}

const latest = (versions: StoredVersion[]) => versions[versions.length - 1]!;

function versionContext(
  deps: ApiDeps,
  alertId: string,
  actor: Actor,
  now: Date,
  ownKey?: string,
): VersionContext {
  return {
    alertId,
    actor,
    now,
    sender: deps.config.sender,
    approvalSeverities: deps.config.approvalSeverities,
    idempotencyKey: ownKey,
  };
}

/**
 * Queues the version's fan-out. If the queue cannot be reached the version is still safe: it is stored as
 * released-but-unplanned, and the sweeper dispatches it within a minute (invariant 1).
 */
async function dispatch(deps: ApiDeps, version: StoredVersion): Promise<void> {
  if (version.dispatchStatus !== 'pending') return;
  try {
    await deps.queue.send('dispatch', [
      {
        id: `${version.alertId}-${version.version}`,
        body: JSON.stringify({ alertId: version.alertId, version: version.version }),
      },
    ]);
  } catch (error) {
    deps.logger.warn('dispatch queue unavailable; the sweeper will dispatch this version', {
      alertId: version.alertId,
      version: version.version,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

function alertResult(status: number, versions: StoredVersion[], now: Date, location?: string): ApiResult {
  const last = latest(versions);
  return json(status, toApiAlert(versions, now), {
    etag: etag(last.version),
    ...(location ? { location } : {}),
  });
}

/** Writes a new version after the current `versions`; a concurrent writer that got there first → 412. */
async function storeNextVersion(
  deps: ApiDeps,
  versions: StoredVersion[],
  next: StoredVersion,
): Promise<StoredVersion[]> {
  if ((await deps.store.putVersion(next)) === 'exists')
    throw preconditionFailed(
      `Version ${next.version} was written by someone else a moment ago; read the alert again and retry.`,
    );
  const previous = latest(versions);
  // A held version that never went out is replaced, not released later behind the newer one's back.
  if (previous.dispatchStatus === 'held')
    await deps.store.supersedeVersion(previous.alertId, previous.version);
  await deps.store.advanceHead(next.alertId, next.version, next.createdAt);
  const updated = versions.map((v) =>
    v === previous && v.dispatchStatus === 'held' ? { ...v, dispatchStatus: 'superseded' as const } : v,
  );
  return [...updated, next];
}

/** A retried request whose first attempt already wrote its version answers with that version. */
const ownVersion = (versions: StoredVersion[], ownKey: string | undefined) =>
  ownKey === undefined ? undefined : versions.find((v) => v.idempotencyKey === ownKey);

/** Nothing goes out with a template's `[name]` still in it: refused before anything is stored, naming each field. */
function refuseUnfilledPlaceholders(body: unknown): void {
  const unfilled = unfilledPlaceholders(body);
  if (unfilled.length)
    throw unprocessable(
      `${unfilled.length} field${unfilled.length === 1 ? ' still holds' : 's still hold'} a template's placeholder.`,
      unfilled,
    );
}

// ---------------------------------------------------------------- operations

export async function createAlert(deps: ApiDeps, { event, actor }: OperationInput): Promise<ApiResult> {
  const body = readBodyObject(event);
  const draft = parseWith(AlertDraft, body);
  refuseUnfilledPlaceholders(draft);
  const key = idempotencyKeyOf(event);
  const now = deps.clock.now();
  return idempotent(
    deps.store,
    key,
    { actor, operation: 'createAlert', path: '/v1/alerts', body, now, newAlertId: deps.newId },
    async (alertId, ownKey) => {
      const v1 = newAlert(draft, versionContext(deps, alertId, actor, now, ownKey));
      if ((await deps.store.putVersion(v1)) === 'exists') {
        // Only a retry of this very request can find its own id taken (ids are random otherwise).
        const existing = await loadVersions(deps, alertId);
        if (!ownVersion(existing, ownKey)) throw conflict('This alert id is already taken.');
        await dispatch(deps, existing[0]!);
        return alertResult(201, existing, now, `/v1/alerts/${alertId}`);
      }
      deps.logger.info('alert created', {
        alertId,
        severity: v1.content.severity,
        held: v1.dispatchStatus === 'held',
      });
      await dispatch(deps, v1);
      return alertResult(201, [v1], now, `/v1/alerts/${alertId}`);
    },
  );
}

export async function getAlert(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const versions = await loadVersions(deps, params.id);
  return alertResult(200, versions, deps.clock.now());
}

const VersionNumber = z.coerce.number().int().positive().max(1_000_000);

export async function getVersion(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const n = VersionNumber.safeParse(params.n);
  if (!n.success || !/^\d+$/.test(params.n ?? ''))
    throw notFound(`There is no version ${JSON.stringify(params.n ?? '')}.`);
  const versions = await loadVersions(deps, params.id);
  const found = versions.find((v) => v.version === n.data);
  if (!found) throw notFound(`Alert ${params.id} has no version ${n.data}.`);
  return json(200, toApiVersion(found, found === latest(versions)), { etag: etag(found.version) });
}

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});

export async function listAlerts(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const parsed = ListQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  const now = deps.clock.now();
  let page: Awaited<ReturnType<AlertStore['listAlerts']>>;
  try {
    page = await deps.store.listAlerts(parsed.data);
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidCursorError')
      throw validationFailed([{ path: '/query/cursor', message: 'is not a cursor this API gave out' }]);
    throw error;
  }
  // The state depends on the latest version only; the creation time is the alert's, kept on its head.
  const items = page.items.map(({ head, latest: v }) => {
    const { versions: _omitted, ...summary } = toApiAlert([v], now);
    return { ...summary, createdAt: head.createdAt };
  });
  return json(200, { items, ...(page.cursor ? { cursor: page.cursor } : {}) });
}

function checkIfMatch(event: APIGatewayProxyEventV2, current: StoredVersion, required: boolean): void {
  const ifMatch = header(event, 'if-match');
  if (ifMatch === undefined) {
    if (required)
      throw preconditionRequired(
        `Send If-Match: "${current.version}" (the ETag of the version you are updating).`,
      );
    return;
  }
  if (!ifMatchSatisfied(ifMatch, current.version))
    throw preconditionFailed(
      `The alert is at version ${current.version}, not ${ifMatch}; read it again and retry.`,
    );
}

interface NewVersionRequest {
  operation: 'updateAlert' | 'cancelAlert';
  /** The path below the alert, for the idempotency fingerprint. */
  action: 'updates' | 'cancel';
  body: unknown;
  /** Updates need If-Match; a cancel must never be blocked by a stale copy, so for it If-Match is optional. */
  ifMatchRequired: boolean;
  build: (versions: StoredVersion[], ctx: VersionContext) => StoredVersion;
  logMessage: string;
}

/** Adds a version after the current one: the shared path of updates and cancels. */
async function addVersion(
  deps: ApiDeps,
  { event, actor, params }: OperationInput,
  request: NewVersionRequest,
) {
  const key = idempotencyKeyOf(event);
  const now = deps.clock.now();
  const versions = await loadVersions(deps, params.id);
  const alertId = latest(versions).alertId;
  return idempotent(
    deps.store,
    key,
    {
      actor,
      operation: request.operation,
      path: `/v1/alerts/${alertId}/${request.action}`,
      body: request.body,
      now,
      newAlertId: () => alertId,
    },
    async (_id, ownKey) => {
      const mine = ownVersion(versions, ownKey);
      if (mine) return alertResult(201, versions, now, `/v1/alerts/${alertId}/versions/${mine.version}`);
      const current = latest(versions);
      // Before If-Match: a cancelled alert is a conflict whatever version the caller had read.
      if (current.msgType === 'Cancel')
        throw conflict(
          `Alert ${alertId} was cancelled in version ${current.version}; it takes no further changes.`,
        );
      checkIfMatch(event, current, request.ifMatchRequired);
      const next = request.build(versions, versionContext(deps, alertId, actor, now, ownKey));
      const all = await storeNextVersion(deps, versions, next);
      deps.logger.info(request.logMessage, {
        alertId,
        version: next.version,
        held: next.dispatchStatus === 'held',
      });
      await dispatch(deps, next);
      return alertResult(201, all, now, `/v1/alerts/${alertId}/versions/${next.version}`);
    },
  );
}

export async function updateAlertOp(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const body = readBodyObject(input.event);
  const patch = parseWith(UpdatePatch, body);
  refuseUnfilledPlaceholders(patch);
  return addVersion(deps, input, {
    operation: 'updateAlert',
    action: 'updates',
    body,
    ifMatchRequired: true,
    build: (versions, ctx) => updateAlert(versions, patch, ctx),
    logMessage: 'alert updated',
  });
}

export async function cancelAlertOp(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const body = readBodyObject(input.event, { optional: true });
  const cancel = parseWith(CancelBody, body);
  refuseUnfilledPlaceholders(cancel);
  return addVersion(deps, input, {
    operation: 'cancelAlert',
    action: 'cancel',
    body,
    ifMatchRequired: false,
    build: (versions, ctx) => cancelAlert(versions, cancel, ctx),
    logMessage: 'alert cancelled',
  });
}

export async function approveAlertOp(
  deps: ApiDeps,
  { event, actor, params }: OperationInput,
): Promise<ApiResult> {
  const approval = parseWith(ApproveBody, readBodyObject(event, { optional: true }));
  const versions = await loadVersions(deps, params.id);
  const current = latest(versions);
  if (current.dispatchStatus !== 'held')
    throw conflict(`Version ${current.version} of alert ${current.alertId} is not waiting for approval.`);
  checkIfMatch(event, current, false);
  if (current.author === actor.id)
    throw forbidden('The two-person rule: a version must be approved by a supervisor other than its author.');
  const now = deps.clock.now();
  const record = {
    required: true,
    approvedBy: actor.id,
    approvedAt: now.toISOString(),
    ...(approval.note ? { note: approval.note } : {}),
  };
  if (
    (await deps.store.approveVersion(current.alertId, current.version, record, now.toISOString())) ===
    'not-held'
  )
    throw conflict(`Version ${current.version} was approved or replaced a moment ago.`);
  const approved: StoredVersion = {
    ...current,
    approval: record,
    dispatchStatus: 'pending',
    releasedAt: now.toISOString(),
  };
  deps.logger.info('alert approved', { alertId: current.alertId, version: current.version });
  await dispatch(deps, approved);
  return alertResult(200, [...versions.slice(0, -1), approved], now);
}

// ---------------------------------------------------------------- deliveries and audit

/** One page of the listing: a 100,000-recipient alert is read a page at a time, never in one answer. */
export const DELIVERIES_PAGE = { default: 1000, max: 5000 } as const;

const DeliveryQuery = z.strictObject({
  version: z.coerce.number().int().positive().optional(),
  channel: z.string().optional(),
  status: DeliveryStatus.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(DELIVERIES_PAGE.max).default(DELIVERIES_PAGE.default),
  cursor: z.string().max(2048).optional(),
});

export function toDelivery(r: Receipt): Delivery {
  return {
    version: r.version,
    channel: r.channel,
    // Subscriber channels name the subscriber by id and keep the masked address beside it.
    recipient: r.recipientMasked ?? maskRecipient(r.channel, r.recipient),
    status: r.status,
    attempts: r.attempts,
    ...(r.providerMessageId ? { providerMessageId: r.providerMessageId } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.status === 'retrying' && r.nextAttemptAt ? { nextAttemptAt: r.nextAttemptAt } : {}),
    updatedAt: r.updatedAt,
  };
}

/**
 * RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula. Controls and lone surrogates
 * (a provider's reason can hold anything) become U+FFFD first, so the guard sees the cell as it will be read.
 */
export function csvCell(value: unknown): string {
  let s = value === undefined || value === null ? '' : safeText(String(value));
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMNS = [
  'version',
  'channel',
  'recipient',
  'status',
  'attempts',
  'providerMessageId',
  'reason',
  'nextAttemptAt',
  'updatedAt',
] as const;

/**
 * Totals for the whole alert (or the version and channel asked for): receipts counted by a Query that reads only
 * their key and status, and subscribers not sent to yet (they have no receipt until the sender records one) counted
 * as queued from the plans.
 */
async function deliveryTotals(
  deps: ApiDeps,
  alertId: string,
  filter: ReceiptFilter,
): Promise<Partial<Record<DeliveryStatus, number>>> {
  const [counts, plans] = await Promise.all([
    deps.store.countReceipts(alertId, filter),
    deps.store.listPlans(alertId),
  ]);
  const totals: Partial<Record<DeliveryStatus, number>> = {};
  const written = new Map<string, number>();
  for (const c of counts) {
    totals[c.status] = (totals[c.status] ?? 0) + c.count;
    written.set(`${c.version}#${c.channel}`, (written.get(`${c.version}#${c.channel}`) ?? 0) + c.count);
  }
  if (filter.status !== undefined && filter.status !== 'queued') return totals;
  let unsent = 0;
  for (const plan of plans) {
    if (plan.state !== 'written' || (filter.version !== undefined && plan.version !== filter.version))
      continue;
    for (const [channel, planned] of Object.entries(plan.recipients ?? {})) {
      if (filter.channel !== undefined && channel !== filter.channel) continue;
      // Status-filtered counts undercount what was written, so read the unfiltered count for this subtraction.
      const receipts =
        filter.status === undefined
          ? (written.get(`${plan.version}#${channel}`) ?? 0)
          : (
              await deps.store.countReceipts(alertId, { version: plan.version, channel: channel as Channel })
            ).reduce((n, c) => n + c.count, 0);
      unsent += Math.max(0, planned - receipts);
    }
  }
  if (unsent > 0) totals.queued = (totals.queued ?? 0) + unsent;
  return totals;
}

export async function listDeliveries(deps: ApiDeps, { event, params }: OperationInput): Promise<ApiResult> {
  const parsed = DeliveryQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  const query = parsed.data;
  const versions = await loadVersions(deps, params.id);
  const alertId = latest(versions).alertId;
  const filter: ReceiptFilter = {
    version: query.version,
    channel: query.channel as Channel | undefined,
    status: query.status,
  };
  const page = async (cursor: string | undefined, limit: number) => {
    try {
      return await deps.store.listReceiptsPage(alertId, { ...filter, limit, cursor });
    } catch (error) {
      if (error instanceof Error && error.name === 'InvalidCursorError')
        throw validationFailed([{ path: '/query/cursor', message: 'is not a cursor this API gave out' }]);
      throw error;
    }
  };
  if (query.format === 'csv') {
    // Every row, read a page at a time so no single read is unbounded (the answer is one body either way).
    const lines = [CSV_COLUMNS.join(',')];
    let cursor = query.cursor;
    do {
      const next = await page(cursor, DELIVERIES_PAGE.max);
      for (const r of next.items) {
        const d = toDelivery(r);
        lines.push(CSV_COLUMNS.map((c) => csvCell(d[c])).join(','));
      }
      cursor = next.cursor;
    } while (cursor);
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="deliveries-${alertId}.csv"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
      body: `${lines.join('\r\n')}\r\n`,
    };
  }
  const [totals, receipts] = await Promise.all([
    deliveryTotals(deps, alertId, filter),
    page(query.cursor, query.limit),
  ]);
  return json(200, {
    totals,
    deliveries: receipts.items.map(toDelivery),
    ...(receipts.cursor ? { cursor: receipts.cursor } : {}),
  });
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  version: number;
  channel?: string | undefined;
  recipient?: string | undefined;
  detail?: string | undefined;
}

/**
 * The audit trail is assembled from the items that changed: a version records its author and approval, a
 * receipt carries its own history. Each entry was written in the same conditional write as the change it
 * describes, so the trail cannot miss a change or claim one that did not happen.
 */
export async function getAudit(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const versions = await loadVersions(deps, params.id);
  const alertId = latest(versions).alertId;
  const entries: AuditEntry[] = [];
  for (const v of versions) {
    entries.push({
      at: v.createdAt,
      actor: v.author,
      action: { Alert: 'alert.created', Update: 'alert.updated', Cancel: 'alert.cancelled' }[v.msgType],
      version: v.version,
      ...(v.note ? { detail: v.note } : {}),
    });
    // The hold stays in the trail after approval: an auditor must see that the version waited, and for how long.
    if (v.approval.required)
      entries.push({
        at: v.createdAt,
        actor: 'system:policy',
        action: 'version.held-for-approval',
        version: v.version,
      });
    if (v.approval.approvedAt && v.approval.approvedBy)
      entries.push({
        at: v.approval.approvedAt,
        actor: v.approval.approvedBy,
        action: 'version.approved',
        version: v.version,
        ...(v.approval.note ? { detail: v.approval.note } : {}),
      });
    if (v.plannedAt)
      entries.push({
        at: v.plannedAt,
        actor: 'system:dispatcher',
        action: 'fanout.planned',
        version: v.version,
        detail: `${v.receiptsPlanned ?? 0} receipts`,
      });
  }
  for (const v of versions)
    for (const channel of v.content.channels) {
      if (SOCIAL_CHANNELS.has(channel)) {
        // One receipt per version (the agency's account): its whole history belongs in the trail.
        let cursor: string | undefined;
        do {
          const page = await deps.store.listReceiptsPage(alertId, {
            version: v.version,
            channel,
            limit: DELIVERIES_PAGE.max,
            cursor,
          });
          for (const r of page.items)
            for (const h of r.history)
              entries.push({
                at: h.at,
                actor: h.actor,
                action: `delivery.${h.status}`,
                version: r.version,
                channel: r.channel,
                recipient: r.recipientMasked ?? maskRecipient(r.channel, r.recipient),
                ...(h.reason ? { detail: h.reason } : {}),
              });
          cursor = page.cursor;
        } while (cursor);
        continue;
      }
      // Subscriber channels can have a receipt per resident, tens of thousands of them: the trail says how many
      // reached each status and where each receipt is (the paged deliveries listing), rather than repeating them.
      for (const c of await deps.store.countReceipts(alertId, { version: v.version, channel }))
        entries.push({
          at: v.plannedAt ?? v.createdAt,
          actor: `channel:${channel}`,
          action: `deliveries.${c.status}`,
          version: v.version,
          channel,
          detail: `${c.count} recipient${c.count === 1 ? '' : 's'}; each receipt: /v1/alerts/${alertId}/deliveries?version=${v.version}&channel=${channel}`,
        });
    }
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return json(200, { alertId, entries });
}
