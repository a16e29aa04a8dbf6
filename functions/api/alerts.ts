/**
 * The alert operations behind the HTTP routes. Each reads, lets the pure core decide, and writes with
 * conditions; the version item is the serialization point (a version number can be written once).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { AlertDraft, ApproveBody, CancelBody, UpdatePatch } from '../../schemas/alert';
import { unfilledPlaceholders } from '../../schemas/templates';
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
  unprocessable,
  validationFailed,
} from '../core/errors';
import type { Actor, StoredVersion } from '../core/model';
import { publishAtFrom, settledVersions } from '../core/schedule';
import type { ZoneCatalog } from '../core/zones';
import type {
  AlertStore,
  BulkStore,
  Clock,
  IdempotencyStore,
  Notifier,
  PiiCipher,
  PublishTimer,
  QueuePort,
  ReceiptStore,
  SubscriberStore,
} from '../ports';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';
import { disarmTimers, listScheduled, startVersion } from './alert-timeline';
import {
  alertResult,
  checkIfMatch,
  invalidCursor,
  latest,
  loadVersions,
  versionNumberOf,
} from './alert-versions';
import { type ApiResult, etag, fieldErrors, json, parseWith, readBodyObject } from './http';
import { idempotencyKeyOf, idempotent } from './idempotency';

// The receipts' listings moved to ./deliveries.ts; the router and tests still find them here.
export {
  type AuditEntry,
  csvCell,
  DELIVERIES_PAGE,
  getAudit,
  listDeliveries,
  toDelivery,
} from './deliveries';

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
  /** Wakes Herald at a scheduled version's time (functions/ports.ts); without one, the sweeper alone releases it. */
  publishTimer?: PublishTimer | undefined;
  /**
   * AWS only: the value CloudFront sends the api in `x-herald-edge-secret`, which makes the viewer's address it passes
   * believable (`clientKey`, functions/api/residents.ts). Unset (the embedded mode, no CDN): sourceIp is the client.
   */
  edgeSecret?: (() => Promise<string>) | undefined;
}

export interface OperationInput {
  event: APIGatewayProxyEventV2;
  actor: Actor;
  params: Record<string, string>;
}

function versionContext(
  deps: ApiDeps,
  alertId: string,
  actor: Actor,
  now: Date,
  ownKey?: string,
  publishAt?: Date,
): VersionContext {
  return {
    alertId,
    actor,
    now,
    sender: deps.config.sender,
    approvalSeverities: deps.config.approvalSeverities,
    idempotencyKey: ownKey,
    publishAt,
  };
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
  // The versions it replaces never go out: the write above already says so (settledVersions); marking them takes them
  // out of the scheduled index and keeps the timer from waking for them.
  const replaced = next.replaces ?? [];
  for (const version of replaced) await deps.store.supersedeVersion(next.alertId, version);
  await disarmTimers(deps, next.alertId, replaced);
  await deps.store.advanceHead(next.alertId, next.version, next.createdAt);
  return settledVersions([...versions, next]);
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
      // Checked here, not before: a retry of a request already answered gets its first answer even once its
      // publishAt has passed (the 201 it was given), and a publishAt refused is that key's answer too.
      const publishAt = publishAtFrom(draft.publishAt, now);
      const v1 = newAlert(draft, versionContext(deps, alertId, actor, now, ownKey, publishAt));
      if ((await deps.store.putVersion(v1)) === 'exists') {
        // Only a retry of this very request can find its own id taken (ids are random otherwise).
        const existing = await loadVersions(deps, alertId);
        if (!ownVersion(existing, ownKey)) throw conflict('This alert id is already taken.');
        await startVersion(deps, existing[0]!);
        return alertResult(201, existing, now, `/v1/alerts/${alertId}`);
      }
      deps.logger.info('alert created', {
        alertId,
        severity: v1.content.severity,
        held: v1.dispatchStatus === 'held',
        ...(v1.publishAt ? { publishAt: v1.publishAt } : {}),
      });
      await startVersion(deps, v1);
      return alertResult(201, [v1], now, `/v1/alerts/${alertId}`);
    },
  );
}

export async function getAlert(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const versions = await loadVersions(deps, params.id);
  return alertResult(200, versions, deps.clock.now());
}

export async function getVersion(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const n = versionNumberOf(params.n);
  const versions = await loadVersions(deps, params.id);
  const found = versions.find((v) => v.version === n);
  if (!found) throw notFound(`Alert ${params.id} has no version ${n}.`);
  return json(
    200,
    toApiVersion(settledVersions(versions).find((v) => v.version === found.version) ?? found),
    {
      etag: etag(found.version),
    },
  );
}

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
  state: z.enum(['scheduled'], { error: 'the only state alerts can be listed by is "scheduled"' }).optional(),
});

export async function listAlerts(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const parsed = ListQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  const now = deps.clock.now();
  if (parsed.data.state === 'scheduled') return listScheduled(deps, parsed.data, now);
  const page = await deps.store.listAlerts(parsed.data).catch(invalidCursor);
  const items = [];
  for (const { head, latest: v } of page.items) {
    // The state is the state of what the public is reading: for an alert whose newest version waits (a timeline
    // step, an update held for approval), that needs the others; every other alert's newest version says it all.
    const versions =
      v.version > 1 && v.dispatchStatus !== 'pending' && v.dispatchStatus !== 'planned'
        ? ((await deps.store.getAlert(head.alertId))?.versions ?? [v])
        : [v];
    const { versions: _omitted, ...summary } = toApiAlert(versions, now);
    items.push({ ...summary, createdAt: head.createdAt });
  }
  return json(200, { items, ...(page.cursor ? { cursor: page.cursor } : {}) });
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
  /** An update's publishAt, as asked (checked against the clock when the version is built). */
  publishAt?: string | undefined;
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
      const next = request.build(
        versions,
        versionContext(deps, alertId, actor, now, ownKey, publishAtFrom(request.publishAt, now)),
      );
      const all = await storeNextVersion(deps, versions, next);
      deps.logger.info(request.logMessage, {
        alertId,
        version: next.version,
        held: next.dispatchStatus === 'held',
        ...(next.publishAt ? { publishAt: next.publishAt } : {}),
        ...(next.replaces ? { replaces: next.replaces } : {}),
      });
      await startVersion(deps, next);
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
    publishAt: patch.publishAt,
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
  const versions = settledVersions(await loadVersions(deps, params.id));
  const current = latest(versions);
  const held = versions.filter(
    (v) => v.dispatchStatus === 'held' && (approval.version === undefined || v.version === approval.version),
  );
  if (held.length === 0)
    throw conflict(
      approval.version === undefined
        ? `No version of alert ${current.alertId} is waiting for approval.`
        : `Version ${approval.version} of alert ${current.alertId} is not waiting for approval.`,
    );
  checkIfMatch(event, current, false);
  if (held.some((v) => v.author === actor.id))
    throw forbidden('The two-person rule: a version must be approved by a supervisor other than its author.');
  const now = deps.clock.now();
  const record = {
    required: true,
    approvedBy: actor.id,
    approvedAt: now.toISOString(),
    ...(approval.note ? { note: approval.note } : {}),
  };
  const approved = new Map<number, StoredVersion>();
  for (const version of held) {
    // Approved before its time, a scheduled version waits for it; after it, it goes out now.
    const stillAhead =
      version.publishAt !== undefined && Date.parse(version.publishAt) > now.getTime()
        ? version.publishAt
        : undefined;
    const result = await deps.store.approveVersion(
      version.alertId,
      version.version,
      record,
      now.toISOString(),
      {
        publishAt: stillAhead,
      },
    );
    if (result === 'not-held') {
      if (held.length === 1)
        throw conflict(`Version ${version.version} was approved or replaced a moment ago.`);
      continue;
    }
    approved.set(version.version, {
      ...version,
      approval: record,
      dispatchStatus: stillAhead ? 'scheduled' : 'pending',
      ...(stillAhead ? {} : { releasedAt: now.toISOString() }),
    });
  }
  deps.logger.info('alert approved', { alertId: current.alertId, versions: [...approved.keys()] });
  // In version order, so an update's dispatch finds its original already on its way.
  for (const version of approved.values()) await startVersion(deps, version);
  return alertResult(
    200,
    versions.map((v) => approved.get(v.version) ?? v),
    now,
  );
}
