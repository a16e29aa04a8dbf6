/**
 * The subscription audit (invariant 6) for supervisors and auditors: one subscriber's stored trail, and every
 * subscription change newest first. The events hold no address, so a deleted subscriber's trail is still shown.
 */
import * as z from 'zod';
import type { SubscriptionEventView } from '../../schemas/subscriptions';
import { validationFailed } from '../core/errors';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, fieldErrors, json } from './http';

const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(2048).optional(),
});

const noStore = { 'cache-control': 'no-store' };

export async function getSubscriberAudit(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const id = params.id ?? '';
  if (id.length === 0 || id.length > 64)
    throw validationFailed([{ path: '/id', message: 'is not a subscriber id' }]);
  const items: SubscriptionEventView[] = await deps.subscribers.subscriberAudit(id);
  // No 404 for an empty trail: a subscriber with no events is also what an unknown id looks like, and both say so.
  return json(200, { items }, noStore);
}

export async function listSubscriptionAudit(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const parsed = AuditQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  try {
    const page = await deps.subscribers.listSubscriptionAudit(parsed.data);
    return json(200, { items: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) }, noStore);
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidCursorError')
      throw validationFailed([{ path: '/query/cursor', message: 'is not a cursor this API gave out' }]);
    throw error;
  }
}
