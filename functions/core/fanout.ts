/**
 * Planning the fan-out of one version, pure: who gets it on which channel, as receipts to write and jobs to
 * queue. Social channels have one recipient, the agency's own account, and a `queued` receipt each. Subscriber
 * channels (SMS, email, webhooks) have subscribers by id, many per job, and no receipt until the sender records
 * an outcome: writing 100,000 `queued` receipts up front would cost more requests than sending does.
 */
import type { Channel } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import { MAX_RECIPIENTS_PER_JOB } from '../../schemas/messages';
import { channelsWhere } from '../channels/list';
import {
  ALL_ZONES,
  type Audience as AudienceKind,
  isReleased,
  type ReceiptKey,
  type StoredVersion,
  SUBSCRIBER_CHANNELS,
  type SubscriberChannel,
} from './model';

export const SOCIAL_CHANNELS: ReadonlySet<Channel> = new Set(channelsWhere((c) => c.audience === 'social'));

const SUBSCRIBER_SET: ReadonlySet<Channel> = new Set(SUBSCRIBER_CHANNELS);
export const isSubscriberChannel = (channel: Channel): channel is SubscriberChannel =>
  SUBSCRIBER_SET.has(channel);

/**
 * Recipients per job when the configuration says nothing: one SQS message, one claim, one consistent read of the
 * subscribers and four batch writes of receipts carry 100 messages; and one job's retries hold back few others.
 */
export const RECIPIENTS_PER_JOB = 100;

export interface FanoutPlan {
  /** `queued` receipts to write: social channels only. */
  receipts: ReceiptKey[];
  jobs: ChannelJob[];
  /** Recipients per subscriber channel (the deliveries totals count those without a receipt as queued). */
  recipients: Partial<Record<SubscriberChannel, number>>;
}

export interface Audience {
  /** The agency's account per social channel. */
  socialAccounts: Partial<Record<Channel, string>>;
  /** Subscriber ids of a subscriber channel, gathered by the dispatcher (rosters, or the original's audience). */
  subscribers?: (channel: SubscriberChannel, version: StoredVersion) => Iterable<string>;
}

/**
 * Invariant 3: an update or cancel goes to the same audience as the original. A channel gets it only if an
 * earlier version went out on it (was released); a channel dropped by an update gets nothing more.
 */
export function channelsFor(version: StoredVersion, earlier: readonly StoredVersion[]): Channel[] {
  if (version.msgType === 'Alert') return version.content.channels;
  const out = earlier.filter(isReleased);
  // Nothing went out before: an update that replaced a held alert is its first message; a cancel has no audience.
  if (out.length === 0) return version.msgType === 'Update' ? version.content.channels : [];
  const reached = new Set(out.flatMap((v) => v.content.channels));
  return version.content.channels.filter((c) => reached.has(c));
}

/**
 * The version whose audience an update or cancel goes to on a channel: the first released version that went out on
 * it. Undefined when the version is itself the first (an Alert, or an update that replaced a held alert): its
 * audience comes from the zone rosters.
 */
export function originalOf(
  version: StoredVersion,
  earlier: readonly StoredVersion[],
  channel: Channel,
): StoredVersion | undefined {
  if (version.msgType === 'Alert') return undefined;
  return [...earlier]
    .sort((a, b) => a.version - b.version)
    .find((v) => isReleased(v) && v.content.channels.includes(channel));
}

/** Invariant 4: Test and Exercise alerts reach only the test audience, never the public. */
export const audienceKindOf = (version: StoredVersion): AudienceKind =>
  version.content.status === 'Actual' ? 'public' : 'test';

/** The rosters an alert reads: each zone its areas name, and `*` (outlets that follow every alert). */
export function rosterZonesOf(version: StoredVersion): string[] {
  const zones = new Set<string>();
  for (const area of version.content.areas) if (area.zone) zones.add(area.zone);
  zones.add(ALL_ZONES);
  return [...zones];
}

export function planFanout(
  version: StoredVersion,
  earlier: readonly StoredVersion[],
  audience: Audience,
  options: { recipientsPerJob?: number | undefined } = {},
): FanoutPlan {
  const perJob = Math.max(
    1,
    Math.min(MAX_RECIPIENTS_PER_JOB, options.recipientsPerJob ?? RECIPIENTS_PER_JOB),
  );
  const plan: FanoutPlan = { receipts: [], jobs: [], recipients: {} };
  const { alertId } = version;
  for (const channel of channelsFor(version, earlier)) {
    if (!isSubscriberChannel(channel)) {
      const account = audience.socialAccounts[channel];
      if (!account) continue;
      plan.receipts.push({ alertId, version: version.version, channel, recipient: account });
      plan.jobs.push({ alertId, version: version.version, channel, recipients: [account] });
      continue;
    }
    // A subscriber on two zones of the alert, or on a zone and `*`, is one recipient.
    const recipients = [...new Set(audience.subscribers?.(channel, version) ?? [])];
    if (recipients.length === 0) continue;
    plan.recipients[channel] = recipients.length;
    for (let i = 0, index = 0; i < recipients.length; i += perJob, index++)
      plan.jobs.push({
        alertId,
        version: version.version,
        channel,
        recipients: recipients.slice(i, i + perJob),
        job: index,
      });
  }
  return plan;
}
