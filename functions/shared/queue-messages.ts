/**
 * The messages Herald puts on its own queues, built in one place: a version's dispatch message (at once, or delayed
 * until its time) and channel jobs, one send per channel's queue.
 */
import type { ChannelJob } from '../../schemas/messages';
import { channelQueue, type OutgoingMessage, type PublishTarget, type QueuePort } from '../ports';

/** SQS delays a message by at most 15 minutes. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** A version's dispatch message (`{ alertId, version }`, schemas/messages.ts DispatchMessage). */
export function dispatchMessage(
  target: Omit<PublishTarget, 'at'>,
  id: string,
  delaySeconds?: number,
): OutgoingMessage {
  return {
    id,
    body: JSON.stringify({ alertId: target.alertId, version: target.version }),
    ...(delaySeconds ? { delaySeconds } : {}),
  };
}

/**
 * Queues a version's dispatch message delayed until its publishAt (at once when that has passed); false, with nothing
 * queued, when the time is further off than a queue can delay.
 */
export async function queueDispatchAt(queue: QueuePort, target: PublishTarget, now: Date): Promise<boolean> {
  const seconds = Math.max(0, Math.ceil((Date.parse(target.at) - now.getTime()) / 1000));
  if (seconds > MAX_QUEUE_DELAY_SECONDS) return false;
  await queue.send('dispatch', [dispatchMessage(target, `${target.alertId}-${target.version}-at`, seconds)]);
  return true;
}

/** Channel jobs on their channels' queues: one send per channel, ids `<tag>-<channel>-<n>`. */
export async function queueChannelJobs(
  queue: QueuePort,
  jobs: readonly ChannelJob[],
  tag: string,
): Promise<void> {
  const byChannel = new Map<ChannelJob['channel'], ChannelJob[]>();
  for (const job of jobs) byChannel.set(job.channel, [...(byChannel.get(job.channel) ?? []), job]);
  await Promise.all(
    [...byChannel].map(([channel, list]) =>
      queue.send(
        channelQueue(channel),
        list.map((job, i) => ({ id: `${tag}-${channel}-${i}`, body: JSON.stringify(job) })),
      ),
    ),
  );
}
