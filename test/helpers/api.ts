/**
 * The API's test rig: createRouter with API Gateway 2.0 events against DynamoStore on dynalite, a manual clock,
 * and the steps a channel worker would take to settle a receipt; plus an RFC 4180 reader for the CSV exports.
 */
import { expect } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import type { ReceiptKey } from '../../functions/core/model';
import { dispatchVersion } from '../../functions/dispatch/plan';
import type { ReceiptOutcome } from '../../functions/ports';
import draftFixture from '../fixtures/alert-draft.json';
import type { DynaliteStore } from './dynalite';
import { type ApiRequest, apiEvent, claimsFor } from './events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from './fakes';
import type { residentsDeps } from './residents';

export const OFFICER = claimsFor('officer-1', ['officer']);
export const SUPERVISOR = claimsFor('supervisor-1', ['supervisor']);
export const SERGEANT = claimsFor('sergeant-1', ['officer', 'supervisor']);
export const AUDITOR = claimsFor('auditor-1', ['auditor']);

export const draft = (changes: Record<string, unknown> = {}) => ({
  ...structuredClone(draftFixture),
  ...changes,
});

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: Record<string, unknown> & { errors?: { path: string; message: string }[] };
}

export function apiHarness(
  db: DynaliteStore,
  residents: Awaited<ReturnType<typeof residentsDeps>>,
  now = '2030-03-04T10:00:00.000Z',
  store: ApiDeps['store'] = db.store,
) {
  const clock = new ManualClock(now);
  const queue = new RecordingQueue();
  const logger = new RecordingLogger();
  const deps: ApiDeps = { ...residents, store, queue, config: testConfig(), clock, newId: newUlid, logger };
  const router = createRouter(deps);
  const call = async (request: ApiRequest): Promise<Answer> => {
    const result = await router(apiEvent(request));
    const text = result.body ?? '';
    const json = /json/.test(result.headers['content-type'] ?? '');
    return {
      status: result.statusCode ?? 0,
      headers: result.headers,
      text,
      body: json ? JSON.parse(text) : {},
    };
  };
  const create = async (body: unknown = draft(), claims = OFFICER) => {
    const res = await call({ method: 'POST', path: '/v1/alerts', body, claims });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const dispatch = (alertId: string, version: number) =>
    dispatchVersion({ store: db.store, queue, config: testConfig(), clock, logger }, { alertId, version });
  return { deps, clock, queue, logger, call, create, dispatch };
}

/** Takes a receipt through one attempt to `outcome`, as a channel worker would. */
export async function settle(
  db: DynaliteStore,
  key: ReceiptKey,
  at: string,
  outcome: Omit<ReceiptOutcome, 'at' | 'actor' | 'attempt'>,
) {
  const claimed = await db.store.claim(key, {
    leaseId: `lease-${newUlid()}`,
    leaseUntil: '2099-01-01T00:00:00.000Z',
    now: at,
    actor: `channel:${key.channel}`,
  });
  if (claimed.kind !== 'claimed') throw new Error(`could not claim: ${claimed.kind}`);
  const ok = await db.store.record(key, claimed.receipt.leaseId!, {
    ...outcome,
    at,
    actor: `channel:${key.channel}`,
    attempt: claimed.receipt.attempts,
  });
  if (!ok) throw new Error('lost the lease');
}

/** RFC 4180, as a spreadsheet reads it. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}
