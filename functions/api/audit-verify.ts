/**
 * GET /v1/audit/verify (supervisors and auditors): checks the tamper-evident audit log (functions/core/audit-verify.ts)
 * and answers `{ ok, checked, broken: [{ alertId?, entry, reason }] }`; `?alertId=` checks one alert. Reads only.
 */
import { AuditVerifyQuery } from '../../schemas/audit';
import { auditLogOf } from '../adapters/dynamo/audit-log';
import type { AuditContent, AuditStream } from '../core/audit-chain';
import { alertTrail } from '../core/audit-events';
import { type AuditVerifyDeps, verifyAlertAudit, verifyAuditLog } from '../core/audit-verify';
import { notFound, validationFailed } from '../core/errors';
import { tipStoreOf } from '../core/tips';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, fieldErrors, json } from './http';

/** Alerts a page of the listing that finds alerts with no chain at all. */
const ALERT_PAGE = 100;

function verifyDeps(deps: ApiDeps): AuditVerifyDeps {
  const log = auditLogOf(deps.store);
  const tips = tipStoreOf(deps.store);
  const trails: Record<AuditStream['kind'], (id: string) => Promise<AuditContent[] | undefined>> = {
    alert: async (id) => {
      const alert = await deps.store.getAlert(id);
      return alert && alert.versions.length > 0 ? alertTrail(alert.versions) : undefined;
    },
    tip: async (id) => (await tips.listAudit(id)).map((entry) => ({ ...entry })),
    subscriber: async (id) => (await deps.subscribers.subscriberAudit(id)).map((event) => ({ ...event })),
  };
  return {
    log,
    heads: log.heads,
    trail: (stream) => trails[stream.kind](stream.id),
    alertIds: async function* () {
      let cursor: string | undefined;
      do {
        const page = await deps.store.listAlerts({ limit: ALERT_PAGE, cursor });
        for (const { head } of page.items) yield head.alertId;
        cursor = page.cursor;
      } while (cursor);
    },
  };
}

export async function verifyAuditLogOp(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const parsed = AuditVerifyQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  const { alertId } = parsed.data;
  const verification = alertId
    ? await verifyAlertAudit(verifyDeps(deps), alertId)
    : await verifyAuditLog(verifyDeps(deps));
  if (!verification) throw notFound(`There is no alert ${alertId}.`);
  if (!verification.ok)
    deps.logger.warn('audit log verification found broken entries', {
      broken: verification.broken.length,
      checked: verification.checked,
    });
  return json(200, verification, { 'cache-control': 'no-store' });
}
