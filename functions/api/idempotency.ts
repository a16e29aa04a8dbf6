/**
 * Idempotency-Key handling for POSTs that create something (api.md): a replay with the same key and body
 * gets the first response; the same key with another body gets 422. The alert id is chosen when the key is
 * first seen and kept in the record, so a retry after a crash mid-request reuses it and cannot create a
 * second alert. Powertools' idempotency utility is not used: it cannot hand the retry that id.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { conflict, HttpProblem, unprocessable, validationFailed } from '../core/errors';
import type { Actor, StoredResponse } from '../core/model';
import type { IdempotencyStore } from '../ports';
import { type ApiResult, canonicalJson, header, problemResult } from './http';

/** Records outlive any sensible client retry window; DynamoDB TTL removes them afterwards. */
const RECORD_TTL_SECONDS = 24 * 60 * 60;
/** How long a started request holds its key before a retry may take over (a crashed request's key frees itself). */
const LOCK_MS = 10_000;
const KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

export interface IdempotentRequest {
  actor: Actor;
  operation: string;
  path: string;
  body: unknown;
  now: Date;
  newAlertId: () => string;
}

/** The key as it is stored on a version it created, so a retried request recognises its own work. */
export const versionIdempotencyKey = (actor: Actor, key: string) => `${actor.id}/${key}`;

export function idempotencyKeyOf(event: APIGatewayProxyEventV2): string | undefined {
  const key = header(event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key))
    throw validationFailed([
      {
        path: '/headers/idempotency-key',
        message: 'must be 1 to 255 visible ASCII characters (a UUID is a good choice)',
      },
    ]);
  return key;
}

const toStored = (r: ApiResult): StoredResponse => ({
  statusCode: r.statusCode ?? 200,
  headers: r.headers,
  body: r.body ?? '',
});

/**
 * Runs `work` at most once per (actor, key): `work` gets the alert id to use and the key to stamp on what it
 * writes. Without a key it simply runs with a fresh id.
 */
export async function idempotent(
  store: IdempotencyStore,
  key: string | undefined,
  request: IdempotentRequest,
  work: (alertId: string, ownKey: string | undefined) => Promise<ApiResult>,
): Promise<ApiResult> {
  if (key === undefined) return work(request.newAlertId(), undefined);
  const scope = request.actor.id;
  const requestHash = createHash('sha256')
    .update(`${request.operation}\n${request.path}\n${canonicalJson(request.body)}`)
    .digest('base64url');
  const nowMs = request.now.getTime();
  const begun = await store.begin(
    {
      scope,
      key,
      requestHash,
      alertId: request.newAlertId(),
      state: 'started',
      lockedUntil: new Date(nowMs + LOCK_MS).toISOString(),
      expiresAt: Math.floor(nowMs / 1000) + RECORD_TTL_SECONDS,
    },
    request.now.toISOString(),
  );
  const record = begun.record;
  if (begun.kind === 'existing') {
    if (record.requestHash !== requestHash)
      throw unprocessable(
        'This Idempotency-Key was already used with a different request; use a new key for a new request.',
      );
    if (record.state === 'done' && record.response)
      return { ...record.response, headers: { ...record.response.headers, 'idempotent-replayed': 'true' } };
    if (Date.parse(record.lockedUntil) > nowMs)
      throw conflict('A request with this Idempotency-Key is still being processed; retry shortly.', {
        'retry-after': '1',
      });
    // The first attempt died mid-way: carry on with its alert id; the version writes recognise its work.
  }
  let result: ApiResult;
  try {
    result = await work(record.alertId, versionIdempotencyKey(request.actor, key));
  } catch (error) {
    // A client error is the request's answer and is replayed as such; a server error leaves the key to be retried.
    if (error instanceof HttpProblem && error.status < 500) {
      await store.complete(scope, key, toStored(problemResult(error)));
    }
    throw error;
  }
  await store.complete(scope, key, toStored(result));
  return result;
}
