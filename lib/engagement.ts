/**
 * Social engagement on AWS (functions/impact): the engagement poller, a function on a ten-minute EventBridge schedule
 * that may read the secrets of the networks it reads metrics from and the table (the alerts and receipts it finds
 * the posts in, and its own snapshots), nothing else, with an alarm when its runs keep failing.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/config';
import { entryPath, HeraldFunction } from './herald-function';
import type { NamedSecret } from './named-resources';
import { runOnSchedule } from './scheduled-function';

/**
 * The networks whose secrets the poller reads: their readers use the posting credentials (Bluesky's only to know the
 * agency posts there; its counts come from the public AppView). Telegram's is not read: its Bot API has no metrics.
 */
export const ENGAGEMENT_SECRET_CHANNELS = [
  'x',
  'facebook',
  'instagram',
  'mastodon',
  'bluesky',
  'threads',
] as const;

/** The poller's finest step (functions/impact/model.ts ENGAGEMENT_SCHEDULE): README "Social engagement". */
export const ENGAGEMENT_POLL_RATE = Duration.minutes(10);
/** Well under the schedule's period, so one run ends before the next starts; a run stops its reads 15 s before. */
export const ENGAGEMENT_POLL_TIMEOUT = Duration.seconds(120);
/** Failed runs in an hour (of six) that raise the alarm: a blip fails one, a revoked token fails them all. */
export const ENGAGEMENT_FAILED_RUNS = 3;

export interface EngagementProps {
  table: ITableV2;
  /** The channels' secrets (`ChannelSecret-<channel>` in the stack), by channel. */
  secrets: Record<(typeof ENGAGEMENT_SECRET_CHANNELS)[number], NamedSecret>;
  secretsPrefix: string;
  alarmTopic: ITopic;
}

export class Engagement extends Construct {
  readonly poller: HeraldFunction;

  constructor(scope: Construct, id: string, props: EngagementProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.poller = new HeraldFunction(stack, 'EngagementPollerFunction', {
      description: "Herald: reads the likes, reposts, replies and views of the agency's posts for 7 days",
      entry: entryPath('functions/impact/handler.ts'),
      serviceName: 'herald-engagement-poller',
      memorySize: 512,
      timeout: ENGAGEMENT_POLL_TIMEOUT,
      // A failed run is not retried: the next one, ten minutes later, reads what is due then.
      retryAttempts: 0,
      maxEventAge: ENGAGEMENT_POLL_RATE,
      environment: { [ENV.secretsPrefix]: props.secretsPrefix },
    })
      // listAlerts (GSI1 Query, then BatchGetItem of the latest versions), receipts of a version on a channel (Query
      // on a key prefix), an alert's snapshots and a network's hold (Query), a snapshot or a hold (PutItem). No
      // update, no delete, no scan.
      .bindTable(props.table, ['Query', 'BatchGetItem', 'GetItem', 'PutItem']);
    // Read-only: the networks it reads metrics from.
    runOnSchedule(this, this.poller, {
      description: 'Runs the Herald engagement poller every ten minutes',
      rate: ENGAGEMENT_POLL_RATE,
      secrets: ENGAGEMENT_SECRET_CHANNELS.map((channel) => props.secrets[channel]),
      alarmDescription: `Herald engagement poller: ${ENGAGEMENT_FAILED_RUNS} or more of its runs failed in an hour, so the impact page's social engagement is not being updated. Its log group names the network and why (most often that network's secret).`,
      alarmPeriod: Duration.hours(1),
      failedRuns: ENGAGEMENT_FAILED_RUNS,
      alarmTopic: props.alarmTopic,
    });
  }
}
