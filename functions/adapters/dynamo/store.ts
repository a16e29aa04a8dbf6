/**
 * Herald's store on one DynamoDB table (AWS, or dynalite in the embedded mode). Each port is implemented in its
 * own module; this class puts them behind one object so a handler is given a single store.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import type { DeliveryStatus } from '../../../schemas/delivery';
import {
  versionApprovedEvent,
  versionCreatedEvents,
  versionReleasedEvent,
  versionWithdrawnEvent,
} from '../../core/audit-events';
import type {
  AlertHead,
  IdempotencyRecord,
  Receipt,
  ReceiptKey,
  StoredResponse,
  StoredVersion,
  SubscriberChannel,
} from '../../core/model';
import type {
  AlertStore,
  BeginResult,
  BulkStore,
  ClaimResult,
  DeferralStore,
  FanoutPlanRecord,
  IdempotencyStore,
  JobOutcome,
  LeaseRequest,
  OutboxItem,
  OutboxStore,
  Page,
  PlanAcquire,
  ReceiptFilter,
  ReceiptOutcome,
  ReceiptStore,
  SendJob,
  SendJobClaim,
  SendJobKey,
  SendWindow,
} from '../../ports';
import type { AuditHeadStore } from '../../ports/audit';
import { DynamoAlertStore } from './alert-store';
import { DynamoAuditLog } from './audit-log';
import { DynamoBulkStore } from './bulk-store';
import { DynamoDeferralStore } from './deferral-store';
import { DynamoIdempotencyStore } from './idempotency-store';
import { DynamoImpactStore } from './impact-store';
import { DynamoOutboxStore } from './outbox-store';
import { DynamoReceiptStore } from './receipt-store';
import { DynamoReportStore } from './report-store';
import { DynamoTipStore } from './tip-store';

export { InvalidCursorError } from './keys';

export interface DynamoStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Where each audit chain's head is also kept (S3 Object Lock on AWS, files in the embedded mode); none if unset. */
  auditHeads?: AuditHeadStore | undefined;
}

export class DynamoStore
  implements AlertStore, ReceiptStore, IdempotencyStore, OutboxStore, BulkStore, DeferralStore
{
  readonly tableName: string;
  /**
   * Residents' tips (tip-store.ts), and the queue of public answers the social helpers post. A property rather than
   * more delegating methods: the tips are their own port, which every composition (AWS, embedded, tests) reaches
   * through the store it already hands the handlers.
   */
  readonly tips: DynamoTipStore;
  /** The reports' reads (report-store.ts): alerts by time, receipts counted per version, subscription changes. */
  readonly reports: DynamoReportStore;
  /** Clicks and page views (the site counts them) and the impact route's other reads (impact-store.ts). */
  readonly impact: DynamoImpactStore;
  /**
   * The tamper-evident audit log (audit-log.ts): the alert events below, the tips' and (through the subscriber
   * store's own) the subscribers' audit entries are chained as they are written. A property, as `tips` is.
   */
  readonly auditLog: DynamoAuditLog;
  private readonly alerts: DynamoAlertStore;
  private readonly receipts: DynamoReceiptStore;
  private readonly idempotency: DynamoIdempotencyStore;
  private readonly outbox: DynamoOutboxStore;
  private readonly bulk: DynamoBulkStore;
  private readonly deferrals: DynamoDeferralStore;

  constructor(options: DynamoStoreOptions) {
    const ctx = { client: options.client, tableName: options.tableName };
    this.tableName = options.tableName;
    this.alerts = new DynamoAlertStore(ctx);
    this.receipts = new DynamoReceiptStore(ctx);
    this.idempotency = new DynamoIdempotencyStore(ctx);
    this.outbox = new DynamoOutboxStore(ctx);
    this.bulk = new DynamoBulkStore(ctx);
    this.deferrals = new DynamoDeferralStore(ctx);
    this.auditLog = new DynamoAuditLog(ctx, options.auditHeads);
    this.tips = new DynamoTipStore(ctx, this.auditLog);
    this.reports = new DynamoReportStore(ctx);
    this.impact = new DynamoImpactStore(ctx);
  }

  // ---- AlertStore
  // The alert's events are chained after the conditional write that decided them (only when it did): see audit-log.ts.
  async putVersion(version: StoredVersion): Promise<'created' | 'exists'> {
    const result = await this.alerts.putVersion(version);
    if (result === 'created')
      await this.auditLog.appendAll({ kind: 'alert', id: version.alertId }, versionCreatedEvents(version), {
        newStream: version.version === 1,
      });
    return result;
  }
  advanceHead(alertId: string, version: number, at: string): Promise<void> {
    return this.alerts.advanceHead(alertId, version, at);
  }
  getAlert(
    alertId: string,
  ): Promise<{ head?: AlertHead | undefined; versions: StoredVersion[] } | undefined> {
    return this.alerts.getAlert(alertId);
  }
  getVersion(alertId: string, version: number): Promise<StoredVersion | undefined> {
    return this.alerts.getVersion(alertId, version);
  }
  listAlerts(options: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<{ head: AlertHead; latest: StoredVersion }>> {
    return this.alerts.listAlerts(options);
  }
  async approveVersion(
    ...args: Parameters<AlertStore['approveVersion']>
  ): ReturnType<AlertStore['approveVersion']> {
    const result = await this.alerts.approveVersion(...args);
    const [alertId, version, approval, at] = args;
    if (result === 'approved')
      await this.auditLog.append({ kind: 'alert', id: alertId }, versionApprovedEvent(version, approval, at));
    return result;
  }
  async releaseScheduled(
    ...args: Parameters<AlertStore['releaseScheduled']>
  ): ReturnType<AlertStore['releaseScheduled']> {
    const result = await this.alerts.releaseScheduled(...args);
    const [alertId, version, at] = args;
    if (result === 'released')
      await this.auditLog.append({ kind: 'alert', id: alertId }, versionReleasedEvent(version, at));
    return result;
  }
  revokeRelease(...args: Parameters<AlertStore['revokeRelease']>): ReturnType<AlertStore['revokeRelease']> {
    return this.alerts.revokeRelease(...args);
  }
  async withdrawVersion(
    ...args: Parameters<AlertStore['withdrawVersion']>
  ): ReturnType<AlertStore['withdrawVersion']> {
    const result = await this.alerts.withdrawVersion(...args);
    const [alertId, version, withdrawn] = args;
    if (result === 'withdrawn')
      await this.auditLog.append({ kind: 'alert', id: alertId }, versionWithdrawnEvent(version, withdrawn));
    return result;
  }
  findScheduled(...args: Parameters<AlertStore['findScheduled']>): ReturnType<AlertStore['findScheduled']> {
    return this.alerts.findScheduled(...args);
  }
  supersedeVersion(alertId: string, version: number): Promise<void> {
    return this.alerts.supersedeVersion(alertId, version);
  }
  markPlanned(alertId: string, version: number, receiptsPlanned: number, at: string): Promise<void> {
    return this.alerts.markPlanned(alertId, version, receiptsPlanned, at);
  }
  countSettled(alertId: string, version: number, count: number): Promise<void> {
    return this.alerts.countSettled(alertId, version, count);
  }
  findUnplanned(releasedBefore: string, limit: number): Promise<{ alertId: string; version: number }[]> {
    return this.alerts.findUnplanned(releasedBefore, limit);
  }

  // ---- ReceiptStore
  createReceipts(receipts: ReceiptKey[], at: string): Promise<number> {
    return this.receipts.createReceipts(receipts, at);
  }
  claim(key: ReceiptKey, lease: LeaseRequest & { actor: string }): Promise<ClaimResult> {
    return this.receipts.claim(key, lease);
  }
  record(key: ReceiptKey, leaseId: string, outcome: ReceiptOutcome): Promise<boolean> {
    return this.receipts.record(key, leaseId, outcome);
  }
  get(key: ReceiptKey): Promise<Receipt | undefined> {
    return this.receipts.get(key);
  }
  findByProviderMessageId(channel: Channel, providerMessageId: string): Promise<ReceiptKey | undefined> {
    return this.receipts.findByProviderMessageId(channel, providerMessageId);
  }
  confirm(
    key: ReceiptKey,
    outcome: { status: 'delivered' | 'failed'; at: string; actor: string; reason?: string | undefined },
  ): Promise<boolean> {
    return this.receipts.confirm(key, outcome);
  }
  listForAlert(alertId: string): Promise<Receipt[]> {
    return this.receipts.listForAlert(alertId);
  }

  // ---- IdempotencyStore
  begin(record: IdempotencyRecord, now: string): Promise<BeginResult> {
    return this.idempotency.begin(record, now);
  }
  complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    return this.idempotency.complete(scope, key, response);
  }

  // ---- OutboxStore
  append(item: OutboxItem): Promise<void> {
    return this.outbox.append(item);
  }
  list(filter: {
    channel?: Channel | undefined;
    alertId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<OutboxItem> & { total: number }> {
    return this.outbox.list(filter);
  }
  findByIdempotencyKey(key: string): Promise<OutboxItem | undefined> {
    return this.outbox.findByIdempotencyKey(key);
  }

  // ---- DeferralStore: residents' quiet hours (deferral-store.ts)
  addDeferred(...args: Parameters<DeferralStore['addDeferred']>): ReturnType<DeferralStore['addDeferred']> {
    return this.deferrals.addDeferred(...args);
  }
  getDeferral(...args: Parameters<DeferralStore['getDeferral']>): ReturnType<DeferralStore['getDeferral']> {
    return this.deferrals.getDeferral(...args);
  }
  findDueDeferrals(
    ...args: Parameters<DeferralStore['findDueDeferrals']>
  ): ReturnType<DeferralStore['findDueDeferrals']> {
    return this.deferrals.findDueDeferrals(...args);
  }
  pendingDeferrals(
    ...args: Parameters<DeferralStore['pendingDeferrals']>
  ): ReturnType<DeferralStore['pendingDeferrals']> {
    return this.deferrals.pendingDeferrals(...args);
  }
  markReleased(
    ...args: Parameters<DeferralStore['markReleased']>
  ): ReturnType<DeferralStore['markReleased']> {
    return this.deferrals.markReleased(...args);
  }
  releaseEarlierDeferrals(
    ...args: Parameters<DeferralStore['releaseEarlierDeferrals']>
  ): ReturnType<DeferralStore['releaseEarlierDeferrals']> {
    return this.deferrals.releaseEarlierDeferrals(...args);
  }
  earlierReleased(
    ...args: Parameters<DeferralStore['earlierReleased']>
  ): ReturnType<DeferralStore['earlierReleased']> {
    return this.deferrals.earlierReleased(...args);
  }

  // ---- BulkStore
  acquirePlan(
    alertId: string,
    version: number,
    purpose: 'writing' | 'waiting',
    times: { now: string; until: string },
  ): Promise<PlanAcquire> {
    return this.bulk.acquirePlan(alertId, version, purpose, times);
  }
  finishPlan(record: FanoutPlanRecord & { state: 'written' }): Promise<void> {
    return this.bulk.finishPlan(record);
  }
  listPlans(alertId: string): Promise<FanoutPlanRecord[]> {
    return this.bulk.listPlans(alertId);
  }
  putJobs(jobs: SendJob[]): Promise<void> {
    return this.bulk.putJobs(jobs);
  }
  deleteJobs(alertId: string, version: number): Promise<void> {
    return this.bulk.deleteJobs(alertId, version);
  }
  listJobs(alertId: string, version: number, channel?: SubscriberChannel): Promise<SendJob[]> {
    return this.bulk.listJobs(alertId, version, channel);
  }
  claimJob(key: SendJobKey, lease: LeaseRequest, firstWindow?: SendWindow): Promise<SendJobClaim> {
    return this.bulk.claimJob(key, lease, firstWindow);
  }
  markWindow(key: SendJobKey, leaseId: string, window: SendWindow): Promise<boolean> {
    return this.bulk.markWindow(key, leaseId, window);
  }
  finishJob(key: SendJobKey, leaseId: string, outcome: JobOutcome): Promise<boolean> {
    return this.bulk.finishJob(key, leaseId, outcome);
  }
  audienceOf(alertId: string, version: number, channel: SubscriberChannel): Promise<Set<string>> {
    return this.bulk.audienceOf(alertId, version, channel);
  }
  getReceipts(keys: readonly ReceiptKey[]): Promise<Map<string, Receipt>> {
    return this.bulk.getReceipts(keys);
  }
  putReceipts(receipts: readonly Receipt[]): Promise<void> {
    return this.bulk.putReceipts(receipts);
  }
  listReceiptsPage(
    alertId: string,
    filter: ReceiptFilter & { limit: number; cursor?: string | undefined },
  ): Promise<Page<Receipt>> {
    return this.bulk.listReceiptsPage(alertId, filter);
  }
  countReceipts(
    alertId: string,
    filter: ReceiptFilter,
  ): Promise<{ version: number; channel: Channel; status: DeliveryStatus; count: number }[]> {
    return this.bulk.countReceipts(alertId, filter);
  }
}
