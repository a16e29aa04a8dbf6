/**
 * Tips in the single table. Every key the tips use is spelled in tip-keys.ts (not in keys.ts), the listings are in
 * tip-listing.ts, and no new index is needed: the tips reuse GSI1 and GSI2 under partition keys of their own.
 *
 * Items (PK / SK):
 *   TIP#<id>        / TIP       the tip, its answers in a map by message id; GSI1 = TIPS / <receivedAt>#<id> (every
 *                               tip, newest first), GSI2 = TIPS#<state> / <receivedAt>#<id> (by state: a close or a
 *                               reopen moves it in the same write, so the open count is one Query that reads open
 *                               tips only)
 *   TIP#<id>        / CONTACT   the tipster's number or address, encrypted; GSI1 = TIPCONTACTS / <receivedAt>#<id>
 *                               while it holds one (the retention sweep's work list, oldest first), `expiresAt`
 *                               (TTL) on AWS behind the sweep
 *   TIP#<id>        / ANSWER#<messageId>   a public answer queued for a social helper; GSI1 = TIPANSWERS#<channel> /
 *                               <at>#<tipId>#<messageId> until it is settled
 *   TIPALERT#<alertId> / <receivedAt>#<id>   an alert's tips, newest first (strongly consistent, one partition)
 *   TIPREF#<reference> / REF    the reference's uniqueness lock: tipId
 *   TIPIN#<key>     / LOCK      one provider message's intake lock (a social reply, an inbound SMS): tipId, reference
 *   TIPAUDIT#<id>   / <at>#<unique>   the tip's audit trail (each entry also chained: AUDITLOG#tip#<id>, audit-log.ts)
 *
 * Only GetItem, BatchGetItem, Query, PutItem and UpdateItem are used (nothing is deleted: erasing and settling
 * remove attributes), which are what the api and sweeper functions are granted on AWS. Dynalite has no
 * transactions, so writes are ordered for crashes: a tip's contact and alert link before the tip, so a crash leaves
 * an orphan the sweep erases or a listing skips, never a tip without its contact or missing from its alert.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  Page,
  SocialAnswer,
  SocialAnswerQueue,
  StoredTip,
  TipAuditEntry,
  TipContact,
  TipFilter,
  TipMessage,
  TipState,
  TipStore,
} from '../../ports';
import { DynamoAuditLog } from './audit-log';
import {
  conditionalWrite,
  countAll,
  type DynamoContext,
  type Item,
  isConditionFailure,
  queryAll,
} from './context';
import { GSI1, GSI2, stripKeys } from './keys';
import {
  ANSWER_PREFIX,
  alertTipsPk,
  answerQueuePk,
  auditPk,
  CONTACT_SK,
  CONTACTS_INDEX_PK,
  INTAKE_SK,
  intakePk,
  REFERENCE_SK,
  referencePk,
  TIP_SK,
  TIPS_INDEX_PK,
  tipIndexSk,
  tipPk,
  tipsByStatePk,
  toTip,
} from './tip-keys';
import { listTipsByIndex, listTipsOfAlert } from './tip-listing';

export class DynamoTipStore implements TipStore, SocialAnswerQueue {
  constructor(
    private readonly ctx: DynamoContext,
    /** Each audit entry is also chained there, right after its own item (audit-log.ts says why in that order). */
    private readonly auditLog: DynamoAuditLog = new DynamoAuditLog(ctx),
  ) {}

  // ---------------------------------------------------------------- intake

  reserveReference(reference: string, tipId: string): Promise<boolean> {
    return this.putIfAbsent({ PK: referencePk(reference), SK: REFERENCE_SK, tipId });
  }

  async findReference(reference: string): Promise<string | undefined> {
    const item = await this.getItem({ PK: referencePk(reference), SK: REFERENCE_SK });
    return item?.tipId as string | undefined;
  }

  async lockIntake(
    key: string,
    claim: { tipId: string; reference: string; receivedAt: string },
  ): Promise<{ kind: 'taken' } | { kind: 'held'; tipId: string; reference: string; receivedAt: string }> {
    const lockKey = { PK: intakePk(key), SK: INTAKE_SK };
    if (await this.putIfAbsent({ ...lockKey, ...claim })) return { kind: 'taken' };
    const held = await this.getItem(lockKey);
    if (!held) throw new Error('an intake lock vanished after its conditional put failed');
    return {
      kind: 'held',
      tipId: held.tipId as string,
      reference: held.reference as string,
      receivedAt: held.receivedAt as string,
    };
  }

  async findIntake(
    key: string,
  ): Promise<{ tipId: string; reference: string; receivedAt: string } | undefined> {
    const held = await this.getItem({ PK: intakePk(key), SK: INTAKE_SK });
    return held
      ? {
          tipId: held.tipId as string,
          reference: held.reference as string,
          receivedAt: held.receivedAt as string,
        }
      : undefined;
  }

  async putTip(tip: StoredTip, contact?: TipContact & { eraseBy: number }): Promise<'created' | 'exists'> {
    const indexSk = tipIndexSk(tip.receivedAt, tip.id);
    if (contact)
      await this.putIfAbsent({
        PK: tipPk(tip.id),
        SK: CONTACT_SK,
        tipId: tip.id,
        channel: contact.channel,
        cipher: contact.cipher,
        receivedAt: tip.receivedAt,
        GSI1PK: CONTACTS_INDEX_PK,
        GSI1SK: indexSk,
        // DynamoDB's TTL removes it on AWS even if no sweep ever runs; dynalite has none, the sweep does it there.
        expiresAt: contact.eraseBy,
      });
    if (tip.alertId) await this.putIfAbsent({ PK: alertTipsPk(tip.alertId), SK: indexSk, tipId: tip.id });
    const { messages: _thread, ...rest } = tip;
    const written = await this.putIfAbsent({
      ...rest,
      messages: {},
      PK: tipPk(tip.id),
      SK: TIP_SK,
      GSI1PK: TIPS_INDEX_PK,
      GSI1SK: indexSk,
      GSI2PK: tipsByStatePk(tip.state),
      GSI2SK: indexSk,
    });
    return written ? 'created' : 'exists';
  }

  // ---------------------------------------------------------------- reads

  async getTip(id: string): Promise<StoredTip | undefined> {
    const item = await this.getItem({ PK: tipPk(id), SK: TIP_SK });
    return item ? toTip(item) : undefined;
  }

  async getContact(tipId: string): Promise<TipContact | undefined> {
    const item = await this.getItem({ PK: tipPk(tipId), SK: CONTACT_SK });
    if (!item || typeof item.cipher !== 'string') return undefined;
    return { channel: item.channel as TipContact['channel'], cipher: item.cipher };
  }

  async listTips(filter: TipFilter): Promise<Page<StoredTip>> {
    if (!Number.isSafeInteger(filter.limit) || filter.limit < 1)
      throw new RangeError(`limit must be a positive whole number, got ${filter.limit}`);
    return filter.alertId === undefined
      ? listTipsByIndex(this.ctx, filter)
      : listTipsOfAlert(this.ctx, filter.alertId, filter);
  }

  countOpen(): Promise<number> {
    return countAll(this.ctx, {
      IndexName: GSI2,
      KeyConditionExpression: 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': tipsByStatePk('open') },
    });
  }

  async listAudit(tipId: string): Promise<TipAuditEntry[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': auditPk(tipId) },
      ConsistentRead: true,
    });
    return items.map((item) => {
      const { unique: _unique, ...entry } = stripKeys<TipAuditEntry & { unique?: string }>(item);
      return entry;
    });
  }

  // ---------------------------------------------------------------- changes

  async appendAnswer(
    tipId: string,
    message: TipMessage,
    limits: { maxAnswers: number },
  ): Promise<'appended' | 'closed' | 'full' | 'missing'> {
    try {
      await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: { PK: tipPk(tipId), SK: TIP_SK },
          // A retried request (same Idempotency-Key, same message id) keeps the answer as it stands: a settled
          // public answer must not go back to `queued`.
          UpdateExpression:
            'SET #messages.#id = if_not_exists(#messages.#id, :message), #updatedAt = :at ADD #answerCount :one',
          ConditionExpression: 'attribute_exists(PK) AND #state = :open AND #answerCount < :max',
          ExpressionAttributeNames: {
            '#messages': 'messages',
            '#id': message.id,
            '#updatedAt': 'updatedAt',
            '#answerCount': 'answerCount',
            '#state': 'state',
          },
          ExpressionAttributeValues: {
            ':message': message,
            ':at': message.at,
            ':one': 1,
            ':open': 'open',
            ':max': limits.maxAnswers,
          },
        }),
      );
      return 'appended';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const current = await this.getTip(tipId);
    if (!current) return 'missing';
    return current.state !== 'open' ? 'closed' : 'full';
  }

  setAnswerStatus(
    tipId: string,
    messageId: string,
    outcome: Pick<TipMessage, 'status' | 'reason' | 'providerMessageId'> & { at: string },
  ): Promise<boolean> {
    const fields = Object.entries({
      status: outcome.status,
      reason: outcome.reason,
      providerMessageId: outcome.providerMessageId,
    }).filter(([, value]) => value !== undefined);
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: tipPk(tipId), SK: TIP_SK },
        UpdateExpression: `SET ${fields.map((_, i) => `#messages.#id.#f${i} = :f${i}`).join(', ')}, #updatedAt = :at`,
        ConditionExpression: 'attribute_exists(#messages.#id)',
        ExpressionAttributeNames: {
          '#messages': 'messages',
          '#id': messageId,
          '#updatedAt': 'updatedAt',
          ...Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
        },
        ExpressionAttributeValues: {
          ':at': outcome.at,
          ...Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, value])),
        },
      }),
    );
  }

  async setAssignee(tipId: string, assignee: string | undefined, at: string): Promise<StoredTip | undefined> {
    return this.update(tipId, {
      UpdateExpression:
        assignee === undefined
          ? 'SET #updatedAt = :at REMOVE #assignee'
          : 'SET #updatedAt = :at, #assignee = :assignee',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#updatedAt': 'updatedAt', '#assignee': 'assignee' },
      ExpressionAttributeValues: { ':at': at, ...(assignee === undefined ? {} : { ':assignee': assignee }) },
    });
  }

  async setState(
    tipId: string,
    change: { from: TipState; to: TipState; at: string },
  ): Promise<StoredTip | 'unchanged' | 'missing'> {
    const closing = change.to === 'closed';
    const updated = await this.update(tipId, {
      // The state's index partition moves in the same write, so the open count never lags the tip.
      UpdateExpression: `SET #state = :to, GSI2PK = :pk, #updatedAt = :at${closing ? ', #closedAt = :at' : ''}${
        closing ? '' : ' REMOVE #closedAt'
      }`,
      ConditionExpression: 'attribute_exists(PK) AND #state = :from',
      ExpressionAttributeNames: { '#state': 'state', '#updatedAt': 'updatedAt', '#closedAt': 'closedAt' },
      ExpressionAttributeValues: {
        ':to': change.to,
        ':from': change.from,
        ':pk': tipsByStatePk(change.to),
        ':at': change.at,
      },
    });
    if (updated) return updated;
    return (await this.getTip(tipId)) ? 'unchanged' : 'missing';
  }

  /**
   * An UpdateItem rather than a PutItem: the sweep appends `tip.contact-erased` and the sweeper function is granted
   * Query and UpdateItem only. `unique` keeps two entries of one millisecond apart, in the order written.
   */
  async appendAudit(entry: TipAuditEntry): Promise<void> {
    auditSerial = (auditSerial + 1) % 1_000_000;
    const unique = `${String(Date.now()).padStart(15, '0')}.${String(auditSerial).padStart(6, '0')}.${randomUUID().slice(0, 8)}`;
    const fields = Object.entries({ ...entry, unique }).filter(([, value]) => value !== undefined);
    await this.ctx.client.send(
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: auditPk(entry.tipId), SK: `${entry.at}#${unique}` },
        UpdateExpression: `SET ${fields.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(fields.map(([name], i) => [`#a${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(fields.map(([, value], i) => [`:a${i}`, value])),
      }),
    );
    await this.auditLog.append(
      { kind: 'tip', id: entry.tipId },
      Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)),
    );
  }

  // ---------------------------------------------------------------- retention

  async contactsReceivedBefore(before: string, limit: number): Promise<string[]> {
    if (limit < 1) return [];
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI1,
        // "<receivedAt>#<id>" sorts after receivedAt itself: the bound is strict, as retention means.
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :before',
        ExpressionAttributeValues: { ':pk': CONTACTS_INDEX_PK, ':before': before },
        ProjectionExpression: 'tipId',
        Limit: limit,
      }),
    );
    return Items.map((item) => item.tipId as string);
  }

  async eraseContact(tipId: string, at: string): Promise<boolean> {
    const erased = await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: tipPk(tipId), SK: CONTACT_SK },
        UpdateExpression: 'SET erasedAt = :at REMOVE cipher, GSI1PK, GSI1SK, expiresAt',
        ConditionExpression: 'attribute_exists(cipher)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
    // Also when the contact was already gone (TTL on AWS, or a sweep that crashed right after erasing it): the tip
    // must say it can no longer be answered privately. Conditional, so an orphan contact creates no tip item.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: tipPk(tipId), SK: TIP_SK },
        UpdateExpression: 'SET contactErasedAt = if_not_exists(contactErasedAt, :at) REMOVE replyBy',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
    return erased;
  }

  // ---------------------------------------------------------------- social answers

  async enqueue(answer: SocialAnswer): Promise<void> {
    // Once per answer: a retried request must not put an answer already posted (and settled) back on the queue.
    await conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          ...answer,
          PK: tipPk(answer.tipId),
          SK: `${ANSWER_PREFIX}${answer.messageId}`,
          GSI1PK: answerQueuePk(answer.channel),
          GSI1SK: `${answer.at}#${answer.tipId}#${answer.messageId}`,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async listQueued(channel: SocialAnswer['channel'], limit: number): Promise<SocialAnswer[]> {
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': answerQueuePk(channel) },
        Limit: limit,
      }),
    );
    return Items.map((item) => {
      const { settledAt: _settled, ...answer } = stripKeys<SocialAnswer & { settledAt?: string }>(item);
      return answer;
    });
  }

  async settle(
    answer: Pick<SocialAnswer, 'tipId' | 'messageId'>,
    outcome: { status: 'sent' | 'failed'; at: string; providerMessageId?: string; reason?: string },
  ): Promise<boolean> {
    const recorded = await this.setAnswerStatus(answer.tipId, answer.messageId, outcome);
    // Off the queue only once the thread says what happened: a crash in between leaves it to be settled again.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: tipPk(answer.tipId), SK: `${ANSWER_PREFIX}${answer.messageId}` },
        UpdateExpression: 'SET settledAt = :at REMOVE GSI1PK, GSI1SK',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':at': outcome.at },
      }),
    );
    return recorded;
  }

  // ---------------------------------------------------------------- internals

  private async update(
    tipId: string,
    expression: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<StoredTip | undefined> {
    try {
      const { Attributes } = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: { PK: tipPk(tipId), SK: TIP_SK },
          ...expression,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toTip(Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  private putIfAbsent(item: Item): Promise<boolean> {
    return conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  private async getItem(key: { PK: string; SK: string }): Promise<Item | undefined> {
    const { Item } = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }
}

/** Writes of one container in their order, so two audit entries of one millisecond keep it. */
let auditSerial = 0;
