/**
 * Deferrals in the single table (layout in table.ts): the recipients of one job of one version whose quiet hours end
 * at one instant, in one item, and the requests to release an alert's deferrals early.
 *
 * Items (PK / SK):
 *   DEFER#<alertId> / <000000v>#<channel>#<000000index>#<until>   a deferral: `recipients` (a String Set) and the
 *       fields of a send job (status, attempts, lease, window, sent), claimed as one (bulk-store.ts);
 *       GSI1 = DEFERRALS / <look at>#<alertId>#… while it is not done: first its `until`, then, once its release is
 *       queued, when the sweeper should queue it again if it is still not done (a lost message)
 *   DEFER#<alertId> / EARLY#<000000v>   version v of the alert went out: every deferral of an earlier version is to be
 *       released now (its release finds v and supersedes what waits); GSI1 = DEFERRALS / <at>#<alertId>#EARLY#…
 * A deferral is written by the sender of the original job (addDeferred, after the `deferred` receipts it lists) and
 * grows only while nobody has claimed it: once its release holds it, an ADD fails and the sender knows.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DeferralStore, SendJob, SendJobKey } from '../../ports';
import { toJob } from './bulk-store';
import { conditionalWrite, type DynamoContext, queryAll } from './context';
import {
  DEFERRALS_INDEX_PK,
  deferralIndexSk,
  deferralPk,
  deferralSk,
  earlyReleaseSk,
  GSI1,
  pad,
} from './keys';

type DeferralKey = SendJobKey & { deferredUntil: string };

const keyOf = (key: DeferralKey) => ({
  PK: deferralPk(key.alertId),
  SK: deferralSk(key.version, key.channel, key.index, key.deferredUntil),
});

/** What follows the alert id in a deferral's index key: enough to keep entries of one instant apart. */
const indexRest = (key: DeferralKey) => `${pad(key.version)}#${key.channel}#${key.index}`;

const EARLY_PREFIX = 'EARLY#';

export class DynamoDeferralStore implements DeferralStore {
  constructor(private readonly ctx: DynamoContext) {}

  async addDeferred(key: DeferralKey, recipients: readonly string[], at: string): Promise<boolean> {
    if (recipients.length === 0) return true;
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keyOf(key),
        UpdateExpression:
          'ADD #recipients :ids SET #status = if_not_exists(#status, :queued), #attempts = if_not_exists(#attempts, :zero), ' +
          '#alertId = :alertId, #version = :version, #channel = :channel, #index = :index, #until = :until, ' +
          '#createdAt = if_not_exists(#createdAt, :at), #updatedAt = :at, ' +
          '#gsi1pk = if_not_exists(#gsi1pk, :gsi1pk), #gsi1sk = if_not_exists(#gsi1sk, :gsi1sk)',
        // Once a release holds it (or is done with it), it takes no one more: they would be listed and never sent.
        ConditionExpression: 'attribute_not_exists(PK) OR #status = :queued',
        ExpressionAttributeNames: {
          '#recipients': 'recipients',
          '#status': 'status',
          '#attempts': 'attempts',
          '#alertId': 'alertId',
          '#version': 'version',
          '#channel': 'channel',
          '#index': 'index',
          '#until': 'deferredUntil',
          '#createdAt': 'createdAt',
          '#updatedAt': 'updatedAt',
          '#gsi1pk': 'GSI1PK',
          '#gsi1sk': 'GSI1SK',
        },
        ExpressionAttributeValues: {
          ':ids': new Set(recipients),
          ':queued': 'queued',
          ':zero': 0,
          ':alertId': key.alertId,
          ':version': key.version,
          ':channel': key.channel,
          ':index': key.index,
          ':until': key.deferredUntil,
          ':at': at,
          ':gsi1pk': DEFERRALS_INDEX_PK,
          ':gsi1sk': deferralIndexSk(key.deferredUntil, key.alertId, indexRest(key)),
        },
      }),
    );
  }

  async getDeferral(key: DeferralKey): Promise<SendJob | undefined> {
    const { Item } = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: keyOf(key), ConsistentRead: true }),
    );
    return Item ? toJob(Item) : undefined;
  }

  async findDueDeferrals(
    dueBy: string,
    limit: number,
  ): Promise<{ deferrals: SendJob[]; earlier: { alertId: string; beforeVersion: number; mark: string }[] }> {
    const deferrals: SendJob[] = [];
    const earlier: { alertId: string; beforeVersion: number; mark: string }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          IndexName: GSI1,
          // Index keys are `<ISO instant>#…`: everything up to and at `dueBy` sorts before `<dueBy>$`.
          KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :bound',
          ExpressionAttributeValues: { ':pk': DEFERRALS_INDEX_PK, ':bound': `${dueBy}$` },
          Limit: limit - deferrals.length - earlier.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        if (String(item.SK).startsWith(EARLY_PREFIX))
          earlier.push({
            alertId: String(item.alertId),
            beforeVersion: Number(item.beforeVersion),
            mark: String(item.GSI1SK),
          });
        else deferrals.push(toJob(item));
      }
      start = page.LastEvaluatedKey;
    } while (start && deferrals.length + earlier.length < limit);
    return { deferrals, earlier };
  }

  async pendingDeferrals(alertId: string, beforeVersion: number): Promise<SendJob[]> {
    const items = await queryAll(this.ctx, {
      // Deferral keys start with the version's digits, which sort before `EARLY#`.
      KeyConditionExpression: 'PK = :pk AND SK < :before',
      FilterExpression: 'attribute_exists(GSI1PK) AND #status = :queued',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':pk': deferralPk(alertId),
        ':before': pad(beforeVersion),
        ':queued': 'queued',
      },
      ConsistentRead: true,
    });
    return items.map(toJob);
  }

  async markReleased(key: DeferralKey, recheckAt: string): Promise<void> {
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keyOf(key),
        UpdateExpression: 'SET GSI1SK = :sk',
        // A deferral finished meanwhile has left the index, and stays out of it.
        ConditionExpression: 'attribute_exists(GSI1PK)',
        ExpressionAttributeValues: { ':sk': deferralIndexSk(recheckAt, key.alertId, indexRest(key)) },
      }),
    );
  }

  async releaseEarlierDeferrals(alertId: string, beforeVersion: number, at: string): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          PK: deferralPk(alertId),
          SK: earlyReleaseSk(beforeVersion),
          GSI1PK: DEFERRALS_INDEX_PK,
          GSI1SK: deferralIndexSk(at, alertId, earlyReleaseSk(beforeVersion)),
          alertId,
          beforeVersion,
          at,
        },
      }),
    );
  }

  async earlierReleased(alertId: string, beforeVersion: number, mark: string): Promise<void> {
    // Taken off the index rather than deleted (the sweeper needs no DeleteItem); written again, it is back on it.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: deferralPk(alertId), SK: earlyReleaseSk(beforeVersion) },
        UpdateExpression: 'REMOVE GSI1PK, GSI1SK',
        // Written again since it was read: a deferral added meanwhile is released by the next pass.
        ConditionExpression: 'GSI1SK = :mark',
        ExpressionAttributeValues: { ':mark': mark },
      }),
    );
  }
}
