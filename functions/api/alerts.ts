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
  preconditionRequired,
  unprocessable,
  validationFailed,
} from '../core/errors';
import type { Actor, StoredVersion } from '../core/model';
import type { ZoneCatalog } from '../core/zones';
import type {
  AlertStore,
  BulkStore,
  Clock,
  IdempotencyStore,
  Notifier,
  PiiCipher,
  QueuePort,
  ReceiptStore,
  SubscriberStore,
} from '../ports';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';
import { latest, loadVersions } from './alert-versions';
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
