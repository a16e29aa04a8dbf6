/**
 * What the receipts of an alert say, for auditors: the paged deliveries listing (JSON and CSV) and the audit trail.
 * A receipt names who it is for without a personal address in clear (subscribers by id, outlets by name too), says
 * every try with its time and reason, and says when a sandbox recorded it: a sandbox `sent` reached no one.
 */
import * as z from 'zod';
import type { Channel } from '../../schemas/alert';
import { type Delivery, DeliveryStatus } from '../../schemas/delivery';
import { safeText } from '../../schemas/text';
import { validationFailed } from '../core/errors';
import { isSubscriberChannel, SOCIAL_CHANNELS } from '../core/fanout';
import type { Receipt, StoredVersion } from '../core/model';
import type { ReceiptFilter } from '../ports';
import { maskRecipient } from '../shared/mask';
import { latest, loadVersions } from './alert-versions';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, csvAttachment, fieldErrors, json } from './http';

/** One page of the listing: a 100,000-recipient alert is read a page at a time, never in one answer. */
export const DELIVERIES_PAGE = { default: 1000, max: 5000 } as const;

/** How the audit and the console word a receipt a sandbox provider recorded. */
const SANDBOX_NOTE = 'sandbox: nothing reached the public';

const DeliveryQuery = z.strictObject({
  version: z.coerce.number().int().positive().optional(),
  channel: z.string().optional(),
  status: DeliveryStatus.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(DELIVERIES_PAGE.max).default(DELIVERIES_PAGE.default),
  cursor: z.string().max(2048).optional(),
});

/**
 * The subscriber a receipt is for. The bulk sender keys subscriber-channel receipts by subscriber id and writes the
 * masked address beside it; a receipt without a masked address was keyed by the address itself, which must not be
 * shown as an id.
 */
function subscriberIdOf(r: Receipt): string | undefined {
  return isSubscriberChannel(r.channel) && r.recipientMasked !== undefined ? r.recipient : undefined;
}

export function toDelivery(r: Receipt): Delivery {
  const subscriberId = subscriberIdOf(r);
  return {
    version: r.version,
    channel: r.channel,
    // Subscriber channels name the subscriber by id and keep the masked address beside it.
    recipient: r.recipientMasked ?? maskRecipient(r.channel, r.recipient),
    ...(subscriberId ? { subscriberId } : {}),
    ...(r.recipientName ? { name: r.recipientName } : {}),
    // A webhook's subscriber id is its id under /v1/webhooks/{id}.
    ...(subscriberId && r.channel === 'webhook' ? { webhookId: subscriberId } : {}),
    status: r.status,
    attempts: r.attempts,
    ...(r.providerMessageId ? { providerMessageId: r.providerMessageId } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    // A retry's next try, or when a resident's quiet hours end and what waits for them goes out.
    ...((r.status === 'retrying' || r.status === 'deferred') && r.nextAttemptAt
      ? { nextAttemptAt: r.nextAttemptAt }
      : {}),
    ...(r.outcomeUnknown ? { outcomeUnknown: true } : {}),
    ...(r.possibleDuplicate ? { possibleDuplicate: true } : {}),
    ...(r.sandbox ? { sandbox: true } : {}),
    attemptLog: r.history.map((e) => ({
      at: e.at,
      status: e.status,
      attempt: e.attempt,
      ...(e.reason ? { reason: e.reason } : {}),
    })),
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

/** The first nine are the columns the export always had, in their order: new ones follow, so positions still hold. */
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
  'subscriberId',
  'name',
  'webhookId',
  'outcomeUnknown',
  'possibleDuplicate',
  'sandbox',
  'attemptTimes',
  'failures',
] as const;

const FAILED_EVENT = new Set<DeliveryStatus>(['failed', 'retrying', 'unknown']);

/**
 * A row of the export. A spreadsheet has no lists, so the tries are flattened: `attemptTimes` holds when each try
 * was made (space-separated), `failures` each failed try as "attempt n at T: reason", joined by " | ".
 */
function csvRow(d: Delivery): Partial<Record<(typeof CSV_COLUMNS)[number], unknown>> {
  const tried = new Map<number, string>();
  for (const e of d.attemptLog) if (e.attempt > 0 && !tried.has(e.attempt)) tried.set(e.attempt, e.at);
  const failures = d.attemptLog
    .filter((e) => FAILED_EVENT.has(e.status))
    .map(
      (e) =>
        `${e.attempt > 0 ? `attempt ${e.attempt}` : 'not attempted'} at ${e.at}: ${e.reason ?? e.status}`,
    );
  return {
    ...d,
    outcomeUnknown: d.outcomeUnknown ? 'true' : '',
    possibleDuplicate: d.possibleDuplicate ? 'true' : '',
    sandbox: d.sandbox ? 'true' : '',
    attemptTimes: [...tried.values()].join(' '),
    failures: failures.join(' | '),
  };
}

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
        const row = csvRow(toDelivery(r));
        lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
      }
      cursor = next.cursor;
    } while (cursor);
    return csvAttachment(`deliveries-${alertId}.csv`, `${lines.join('\r\n')}\r\n`);
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
/** A version's life on the timeline: scheduled for when, released at its time, replaced by which, withdrawn by whom. */
function scheduleEntries(v: StoredVersion, versions: readonly StoredVersion[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  if (v.publishAt)
    entries.push({
      at: v.createdAt,
      actor: v.author,
      action: 'version.scheduled',
      version: v.version,
      detail: `to go out at ${v.publishAt}`,
    });
  if (v.publishAt && v.releasedAt)
    entries.push({
      at: v.releasedAt,
      actor: 'system:scheduler',
      action: 'version.released',
      version: v.version,
    });
  const replacer = versions.find((later) => later.replaces?.includes(v.version));
  if (replacer)
    entries.push({
      at: replacer.createdAt,
      actor: replacer.author,
      action: 'version.replaced',
      version: v.version,
      detail: `by version ${replacer.version}, before it went out`,
    });
  if (v.withdrawn)
    entries.push({
      at: v.withdrawn.at,
      actor: v.withdrawn.by,
      action: 'version.withdrawn',
      version: v.version,
    });
  return entries;
}

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
    entries.push(...scheduleEntries(v, versions));
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
            for (const h of r.history) {
              const detail = [h.sandbox ? SANDBOX_NOTE : undefined, h.reason].filter(Boolean).join('; ');
              entries.push({
                at: h.at,
                actor: h.actor,
                action: `delivery.${h.status}`,
                version: r.version,
                channel: r.channel,
                recipient: r.recipientMasked ?? maskRecipient(r.channel, r.recipient),
                ...(detail ? { detail } : {}),
              });
            }
          cursor = page.cursor;
        } while (cursor);
        continue;
      }
      // Subscriber channels can have a receipt per resident, tens of thousands of them: the trail says how many
      // reached each status and where each receipt is (the paged deliveries listing), rather than repeating them.
      const counts = await deps.store.countReceipts(alertId, { version: v.version, channel });
      if (counts.length === 0) continue;
      // The counts read only statuses. One receipt, read by key range, tells whether a sandbox sent them: a
      // channel's provider is chosen once per process, and Test and Exercise alerts always go to the sandbox.
      const [first] = (await deps.store.listReceiptsPage(alertId, { version: v.version, channel, limit: 1 }))
        .items;
      const where = first?.sandbox ? ` (${SANDBOX_NOTE})` : '';
      for (const c of counts)
        entries.push({
          at: v.plannedAt ?? v.createdAt,
          actor: `channel:${channel}`,
          action: `deliveries.${c.status}`,
          version: v.version,
          channel,
          detail: `${c.count} recipient${c.count === 1 ? '' : 's'}${where}; each receipt: /v1/alerts/${alertId}/deliveries?version=${v.version}&channel=${channel}`,
        });
    }
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return json(200, { alertId, entries });
}
