/**
 * GET /v1/alerts/{id}/impact (every role): what the alert achieved, per channel and in all (api.md "Impact and
 * accountability"; the figures and what each counts are in functions/core/impact.ts). Reads the alert's receipts (a
 * paged Query of its partition), its click and view counters, its tips' per-alert index, the subscription audit's
 * time index for the 24 hours after the first send, and the engagement the poller stored: no scan.
 */
import type { Channel } from '../../schemas/alert';
import { measureSms, renderSms } from '../channels/sms/render';
import {
  type AlertImpact,
  computeImpact,
  impactStoreOf,
  optOutWindow,
  type SmsEstimate,
  secondsToLastRecipient,
} from '../core/impact';
import type { StoredVersion } from '../core/model';
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
  const estimate = smsEstimate(deps, versions[0]!, figures);
  if (estimate) figures.estimate = estimate;
  // Counts move with every click and delivery: never cached, here or on the way.
  return json(200, figures, { 'cache-control': 'no-store' });
}

/**
 * The preview's estimate for the SMS, worked out again for the recipients the alert really had: its first version
 * rendered in each of its languages, the longest counted, at the account's messages per second. Only when SMS went
 * out at all (the estimate counts from the first send).
 */
function smsEstimate(
  deps: Pick<ApiDeps, 'config'>,
  first: StoredVersion,
  figures: AlertImpact,
): SmsEstimate | undefined {
  const sms = figures.channels.sms;
  if (!sms?.firstSentAt || sms.recipients === 0) return undefined;
  const config = { ...deps.config, channel: 'sms' as const };
  const languages = [first.content.language, ...first.content.translations.map((t) => t.language)];
  const segments = Math.max(
    1,
    ...languages.map((language) => measureSms(renderSms(first, config, language).text).segments),
  );
  const messagesPerSecond = deps.config.smsMessagesPerSecond;
  return {
    channel: 'sms',
    from: sms.firstSentAt,
    recipients: sms.recipients,
    segments,
    messagesPerSecond,
    secondsToLastRecipient: secondsToLastRecipient(sms.recipients, segments, messagesPerSecond),
  };
}
