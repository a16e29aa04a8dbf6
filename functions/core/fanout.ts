/**
 * Planning the fan-out of one version, pure: who gets it on which channel, as receipts to write and jobs to
 * queue. Social channels have one recipient, the agency's own account; subscriber channels (SMS, email,
 * webhooks) are expanded from the subscribers of the alert's zones once subscriptions exist.
 */
import type { Channel } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import type { ReceiptKey, StoredVersion } from './model';

export const SOCIAL_CHANNELS: ReadonlySet<Channel> = new Set(['x', 'facebook', 'instagram']);

/** Recipients per job: SQS messages stay small, and one job's retries do not hold back thousands of others. */
export const RECIPIENTS_PER_JOB = 50;

export interface FanoutPlan {
  receipts: ReceiptKey[];
  jobs: ChannelJob[];
}

export interface Audience {
  /** The agency's account per social channel. */
  socialAccounts: Partial<Record<Channel, string>>;
  /** Subscribers of a subscriber channel (none until subscriptions exist). */
  subscribers?: (channel: Channel, version: StoredVersion) => readonly string[];
}

/**
 * Invariant 3: an update or cancel goes to the same audience as the original. A channel gets it only if an
 * earlier version went out on it (was released); a channel dropped by an update gets nothing more.
 */
function channelsFor(version: StoredVersion, earlier: readonly StoredVersion[]): Channel[] {
  if (version.msgType === 'Alert') return version.content.channels;
  // Released versions go out (a pending one is guaranteed to by the sweeper); held or superseded ones never do.
  const released = earlier.filter((v) => v.dispatchStatus === 'planned' || v.dispatchStatus === 'pending');
  // Nothing went out before: an update that replaced a held alert is its first message; a cancel has no audience.
  if (released.length === 0) return version.msgType === 'Update' ? version.content.channels : [];
  const reached = new Set(released.flatMap((v) => v.content.channels));
  return version.content.channels.filter((c) => reached.has(c));
}

export function planFanout(
  version: StoredVersion,
  earlier: readonly StoredVersion[],
  audience: Audience,
): FanoutPlan {
  const receipts: ReceiptKey[] = [];
  const jobs: ChannelJob[] = [];
  for (const channel of channelsFor(version, earlier)) {
    const account = audience.socialAccounts[channel];
    const recipients = SOCIAL_CHANNELS.has(channel)
      ? account
        ? [account]
        : []
      : [...new Set(audience.subscribers?.(channel, version) ?? [])];
    for (const recipient of recipients)
      receipts.push({ alertId: version.alertId, version: version.version, channel, recipient });
    for (let i = 0; i < recipients.length; i += RECIPIENTS_PER_JOB)
      jobs.push({
        alertId: version.alertId,
        version: version.version,
        channel,
        recipients: recipients.slice(i, i + RECIPIENTS_PER_JOB),
      });
  }
  return { receipts, jobs };
}
