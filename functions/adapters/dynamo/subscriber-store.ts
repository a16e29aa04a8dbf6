/**
 * Residents and media outlets in the single table. SKELETON: the contract is SubscriberStore in functions/ports.ts;
 * the implementation replaces these bodies.
 */
import type { Audience, Challenge, Subscriber, SubscriberChannel } from '../../core/model';
import type { Page, SubscriberStore } from '../../ports';
import type { DynamoContext } from './context';

export class DynamoSubscriberStore implements SubscriberStore {
  constructor(private readonly ctx: DynamoContext) {}

  createSubscriber(
    _s: Subscriber,
  ): Promise<{ kind: 'created' } | { kind: 'exists'; subscriber: Subscriber }> {
    throw new Error(`not implemented yet (${this.ctx.tableName})`);
  }
  getSubscriber(_id: string): Promise<Subscriber | undefined> {
    throw new Error('not implemented yet');
  }
  findSubscriber(_channel: SubscriberChannel, _addressHash: string): Promise<Subscriber | undefined> {
    throw new Error('not implemented yet');
  }
  getSubscribers(_ids: readonly string[]): Promise<Map<string, Subscriber>> {
    throw new Error('not implemented yet');
  }
  saveSubscriber(_next: Subscriber, _expectedUpdatedAt: string): Promise<boolean> {
    throw new Error('not implemented yet');
  }
  deleteSubscriber(_id: string): Promise<boolean> {
    throw new Error('not implemented yet');
  }
  listSubscribers(_filter: {
    channel?: SubscriberChannel | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Subscriber>> {
    throw new Error('not implemented yet');
  }
  rosterMembers(_zone: string, _channel: SubscriberChannel, _audience: Audience): Promise<string[]> {
    throw new Error('not implemented yet');
  }
  putChallenge(_c: Challenge): Promise<void> {
    throw new Error('not implemented yet');
  }
  getChallenge(_channel: Challenge['channel'], _addressHash: string): Promise<Challenge | undefined> {
    throw new Error('not implemented yet');
  }
  spendChallengeTry(_channel: Challenge['channel'], _addressHash: string): Promise<boolean> {
    throw new Error('not implemented yet');
  }
  deleteChallenge(_channel: Challenge['channel'], _addressHash: string): Promise<void> {
    throw new Error('not implemented yet');
  }
  rateLimitHit(_key: string, _windowSeconds: number, _limit: number, _now: Date): Promise<boolean> {
    throw new Error('not implemented yet');
  }
}
