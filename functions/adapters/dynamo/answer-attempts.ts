/**
 * Claims on queued public answers (functions/replies/answers.ts), kept on the answer's own queue item, which the
 * tip store writes (tip-store.ts: `TIP#<tipId> / ANSWER#<messageId>`, in the queue's index while `GSI1PK` is there):
 *
 *   attemptId   the claim's holder (a random id)      leaseUntil   no other run touches it before this (ISO 8601)
 *   attemptedAt when the claim was taken              attempts     claims taken so far
 *
 * A claim is one conditional UpdateItem: the answer is still queued and nobody holds a live lease. Settling
 * (SocialAnswerQueue.settle) takes the item out of the index, which ends every claim; releasing removes the lease.
 * A lease that ran out without either is an attempt whose outcome was lost (a crash, a timeout), and the next claim
 * says so. Only UpdateItem and GetItem: what the replies function may already do on the table.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AnswerAttempts, AnswerKey, Claim } from '../../replies/answers';
import { conditionalWrite, type DynamoContext, isConditionFailure } from './context';
import { ANSWER_PREFIX, tipPk } from './tip-keys';

const keyOf = (answer: AnswerKey) => ({ PK: tipPk(answer.tipId), SK: `${ANSWER_PREFIX}${answer.messageId}` });

export class DynamoAnswerAttempts implements AnswerAttempts {
  constructor(private readonly ctx: DynamoContext) {}

  async claim(answer: AnswerKey, at: Date, leaseMs: number): Promise<Claim> {
    const attemptId = randomUUID();
    const now = at.toISOString();
    try {
      const { Attributes: before = {} } = await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: keyOf(answer),
          UpdateExpression: 'SET attemptId = :id, attemptedAt = :now, leaseUntil = :until ADD attempts :one',
          // ISO 8601 instants of one format compare as strings in time order.
          ConditionExpression:
            'attribute_exists(GSI1PK) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
          ExpressionAttributeValues: {
            ':id': attemptId,
            ':now': now,
            ':until': new Date(at.getTime() + leaseMs).toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return {
        kind: 'claimed',
        attemptId,
        attempts: Number(before.attempts ?? 0) + 1,
        ...(typeof before.leaseUntil === 'string'
          ? { lostAttemptAt: String(before.attemptedAt ?? before.leaseUntil) }
          : {}),
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: keyOf(answer), ConsistentRead: true }),
    );
    return Item?.GSI1PK === undefined ? { kind: 'gone' } : { kind: 'busy' };
  }

  async release(answer: AnswerKey, attemptId: string, options: { uncount?: boolean } = {}): Promise<void> {
    // Only our own claim: one that ran out and was taken over belongs to its new holder.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keyOf(answer),
        UpdateExpression: `REMOVE attemptId, leaseUntil${options.uncount ? ' ADD attempts :minus' : ''}`,
        ConditionExpression: 'attemptId = :id',
        ExpressionAttributeValues: { ':id': attemptId, ...(options.uncount ? { ':minus': -1 } : {}) },
      }),
    );
  }
}
