/**
 * GET /v1/alerts/{id}/impact (every role): what the alert achieved, per channel and in all (api.md "Impact and
 * accountability"; the figures and what each counts are in functions/core/impact.ts). Reads the alert's receipts (a
 * paged Query of its partition), its click and view counters, its tips' per-alert index, the subscription audit's
 * time index for the 24 hours after the first send, and the engagement the poller stored: no scan.
 */
import type { Channel } from '../../schemas/alert';
import { computeImpact, impactStoreOf, optOutWindow } from '../core/impact';
import { loadVersions } from './alert-versions';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, json } from './http';

export async function getImpact(deps: ApiDeps, { params }: OperationInput): Promise<ApiResult> {
  const versions = await loadVersions(deps, params.id);
  const alertId = versions[0]!.alertId;
  const impact = impactStoreOf(deps.store);
  const receipts = await deps.store.listForAlert(alertId);
  const window = optOutWindow(receipts);
  const [clicks, views, tips, optOuts, engagement] = await Promise.all([
    impact.clicks(alertId),
    impact.views(alertId),
    impact.tipCount(alertId),
    window ? impact.optOutsBetween(window.from, window.to) : Promise.resolve([]),
    impact.engagement(alertId),
  ]);
  const channels = [...new Set(versions.flatMap((v) => v.content.channels as Channel[]))];
  const figures = computeImpact({ alertId, channels, receipts, clicks, views, tips, optOuts, engagement });
  // Counts move with every click and delivery: never cached, here or on the way.
  return json(200, figures, { 'cache-control': 'no-store' });
}
