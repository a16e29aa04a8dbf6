/**
 * POST /v1/alerts/preview: what each named channel would carry, rendered by the same functions the channel
 * handlers send with, without storing anything.
 *
 * Shape: `channels.<channel>` holds the alert's own language at top level (with `language` naming it) and,
 * when the draft has translations, `languages: { "<tag>": { …the same fields… } }` for each of them. Beside
 * the channels: `approvalRequired`, `languages` (every language, the alert's own first), `link` (where the
 * messages point), `times` (CAP's times on the agency's clock, as residents will read them), `quietHours` (who of
 * the SMS and email subscribers would wait for the end of their quiet hours: preview-quiet.ts) and `warnings` that
 * concern the whole alert.
 */

import { AlertDraft, type Channel } from '../../schemas/alert';
import { unfilledPlaceholders } from '../../schemas/templates';
import { drawCard } from '../channel/card-image';
import { channelsWhere } from '../channels/list';
import { rendererOf } from '../channels/renderers';
import { newAlert } from '../core/alerts';
import { audienceKindOf, rosterZonesOf } from '../core/fanout';
import { secondsToLastRecipient } from '../core/impact';
import type { StoredVersion } from '../core/model';
import { alertLink, languagesOf } from '../core/render';
import { publishAtFrom } from '../core/schedule';
import { previewTimes } from '../core/times-preview';
import type { SubscriberStore } from '../ports';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, json, parseWith, readBodyObject } from './http';
import { quietHoursPreview, rosterReader } from './preview-quiet';

/** A draft has no id yet: its links are shown with one of the same length, so every count is exact. */
export const PREVIEW_ALERT_ID = '0'.repeat(26);

type Entry = Record<string, unknown>;

/**
 * The alert card Instagram would carry, per language, as a data: URL: the preview shows exactly the image that
 * would go out, and stores nothing.
 */
async function previewCards(
  entry: Entry | undefined,
  version: StoredVersion,
  agencyName: string,
): Promise<void> {
  if (!entry) return;
  const entries = [entry, ...Object.values((entry.languages as Record<string, Entry> | undefined) ?? {})];
  for (const e of entries) {
    const image = e.image as { source: string } | undefined;
    if (image?.source !== 'card') continue;
    const card = await drawCard(version, agencyName, e.language as string);
    e.image = {
      source: 'card',
      url: `data:image/jpeg;base64,${Buffer.from(card.bytes).toString('base64')}`,
      width: card.width,
      height: card.height,
      alt: card.alt,
    };
  }
}

/** "2 h 47 min", "4 min 10 s", "12 s": how long an officer should expect the SMS fan-out to take. */
export function humanDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}

/**
 * Who the SMS would reach and how long the last of them waits: the confirmed subscribers of the draft's zones (and of
 * `*`), counted once each, times the segments each message takes, over the account's messages per second (each
 * segment counts against the quota). The longest of the draft's languages is counted, so the estimate errs long.
 */
async function smsReach(
  deps: Pick<ApiDeps, 'config'> & { subscribers: Pick<SubscriberStore, 'rosterMembers'> },
  version: StoredVersion,
  entry: Entry,
): Promise<Entry> {
  const audience = audienceKindOf(version);
  const zones = rosterZonesOf(version);
  const members = new Set<string>();
  for (const zone of zones)
    for (const id of await deps.subscribers.rosterMembers(zone, 'sms', audience)) members.add(id);
  const segments = Math.max(
    1,
    ...[entry, ...Object.values((entry.languages as Record<string, Entry> | undefined) ?? {})].map((e) =>
      typeof e.segments === 'number' ? e.segments : 1,
    ),
  );
  const mps = deps.config.smsMessagesPerSecond;
  const seconds = secondsToLastRecipient(members.size, segments, mps);
  const who = `${members.size.toLocaleString('en')} ${audience === 'test' ? 'test ' : ''}subscriber${members.size === 1 ? '' : 's'}`;
  return {
    recipients: members.size,
    audience,
    zones: zones.filter((z) => z !== '*'),
    segments,
    messagesPerSecond: mps,
    secondsToLastRecipient: seconds,
    summary:
      members.size === 0
        ? 'Nobody subscribed to these zones would get this SMS.'
        : `${who} would get this SMS. At ${mps} messages per second and ${segments} segment${segments === 1 ? '' : 's'} each, the last one gets it about ${humanDuration(seconds)} after sending starts.`,
  };
}

export async function previewAlert(deps: ApiDeps, { event, actor }: OperationInput): Promise<ApiResult> {
  const draft = parseWith(AlertDraft, readBodyObject(event));
  // A time the create would refuse is refused here too, naming the field, so the officer learns it before sending.
  publishAtFrom(draft.publishAt, deps.clock.now());
  const version = newAlert(draft, {
    alertId: PREVIEW_ALERT_ID,
    actor,
    now: deps.clock.now(),
    sender: deps.config.sender,
    approvalSeverities: deps.config.approvalSeverities,
  });
  const languages = languagesOf(version.content);
  const [primary, ...others] = languages as [string, ...string[]];
  const channels: Partial<Record<Channel, Entry>> = {};
  for (const channel of version.content.channels) {
    // Webhooks carry every language in one payload: one entry says it all.
    const perLanguage = channel === 'webhook' ? [] : others;
    channels[channel] = {
      language: primary,
      ...rendererOf(channel).preview(version, { ...deps.config, channel }, primary),
      ...(perLanguage.length
        ? {
            languages: Object.fromEntries(
              perLanguage.map((l) => [
                l,
                { language: l, ...rendererOf(channel).preview(version, { ...deps.config, channel }, l) },
              ]),
            ),
          }
        : {}),
    };
  }
  // The channels that cannot post without an image show the alert card they would carry.
  for (const channel of channelsWhere((c) => c.needsImage === true))
    await previewCards(channels[channel], version, deps.config.agencyName);
  // The rosters are read once for both counts: who the SMS reaches, and who of them is in quiet hours then.
  const rosters = rosterReader(deps.subscribers);
  if (channels.sms)
    channels.sms.reach = await smsReach({ ...deps, subscribers: rosters }, version, channels.sms);
  const quietHours = await quietHoursPreview(
    {
      config: deps.config,
      subscribers: { ...rosters, quietMembers: (...a) => deps.subscribers.quietMembers(...a) },
    },
    version,
    draft.publishAt ? new Date(draft.publishAt) : deps.clock.now(),
  );
  const warnings: string[] = [];
  if (draft.status !== 'Actual')
    warnings.push(
      `status ${draft.status}: goes to the sandbox and test recipients only, never to the public`,
    );
  if (!draft.web)
    warnings.push(
      "the draft has no web link: messages link to the alert's page on Herald, once it is created",
    );
  // Caught here, while the officer is still writing, and refused (422) if it is sent as it is.
  const unfilled = unfilledPlaceholders(draft);
  if (unfilled.length)
    warnings.push(
      `${unfilled.length} field${unfilled.length === 1 ? ' still holds' : 's still hold'} a template's placeholder (${unfilled.map((u) => u.path).join(', ')}): sending it would be refused (422)`,
    );
  const times = previewTimes(version.content, {
    sendsAt: draft.publishAt ? new Date(draft.publishAt) : deps.clock.now(),
    timeZone: deps.config.timeZone,
  });
  warnings.push(...times.warnings);
  return json(200, {
    channels,
    approvalRequired: version.approval.required,
    languages,
    link: alertLink(deps.config, PREVIEW_ALERT_ID, version.content),
    times: times.times,
    ...(quietHours ? { quietHours } : {}),
    warnings,
    unfilled,
  });
}
