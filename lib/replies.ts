/**
 * Residents' replies to the agency's posts, on AWS (functions/replies, functions/api/meta-webhook.ts):
 *
 * - the replies function, on a two-minute schedule: it posts the officers' public answers, then polls the replies to
 *   the agency's live posts on X, Mastodon, Bluesky, Threads and Telegram (functions/replies/compose.ts). It may read
 *   those networks' secrets, Facebook's and Instagram's (to answer there), and the table (the alerts and receipts it
 *   finds live posts in, its own cursors, the tips it hands over), nothing else, with an alarm when its runs keep
 *   failing;
 * - the api function's right to read the `facebook` and `instagram` secrets, where the Meta webhook route finds
 *   the app secret its deliveries are signed with and the verify token of the handshake. The route itself comes
 *   from the route table (schemas/routes.ts) like every other.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { META_WEBHOOK_PATH } from '../functions/api/meta-webhook';
import { REPLY_SECRET_CHANNELS } from '../functions/replies/compose';
import { ENV } from '../functions/shared/config';
import type { Channel } from '../schemas/alert';
import { entryPath, HeraldFunction } from './herald-function';
import type { NamedSecret } from './named-resources';
import { runOnSchedule } from './scheduled-function';

export { META_WEBHOOK_PATH, REPLY_SECRET_CHANNELS };

/** How often the poller runs: functions/replies/poller.ts sizes a run's requests against X's limit for this. */
export const REPLY_POLL_RATE = Duration.minutes(2);
/**
 * Under the schedule's period, so one run ends before the next starts. The handler stops starting requests 15 s
 * before it (each is limited to 10 s): answers take at most 25 s, then the networks are polled side by side, not one
 * after another, in what is left (20 s at least).
 */
export const REPLY_POLL_TIMEOUT = Duration.seconds(60);
/** Failed runs in ten minutes (of five) that raise the alarm: a blip fails one, a broken token fails them all. */
export const REPLY_POLL_FAILED_RUNS = 3;

/** Why the Meta webhook routes are public (cdk-nag AwsSolutions-APIG4), for lib/herald-stack.ts. */
export const META_WEBHOOK_NAG_REASON = `${META_WEBHOOK_PATH} is called by Meta, which cannot present a JWT: the GET answers only the verify token configured in the facebook or instagram secret, and a POST is read only once its X-Hub-Signature-256 (HMAC-SHA256 of the raw body under the Meta app secret) verifies; nothing else is accepted or stored.`;

export interface RepliesProps {
  table: ITableV2;
  /** The api function, which serves the Meta webhook route. */
  api: HeraldFunction;
  /**
   * The channels' secrets (`ChannelSecret-<channel>` in the stack), by channel: REPLY_SECRET_CHANNELS' (the networks
   * polled and answered on) and Facebook's and Instagram's, which the api reads for the Meta webhook.
   */
  secrets: Partial<Record<Channel, NamedSecret>> & { facebook: NamedSecret; instagram: NamedSecret };
  secretsPrefix: string;
  alarmTopic: ITopic;
}

export class Replies extends Construct {
  readonly poller: HeraldFunction;

  constructor(scope: Construct, id: string, props: RepliesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // ------------------------------------------------------------ the replies poller
    this.poller = new HeraldFunction(stack, 'RepliesPollerFunction', {
      description:
        "Herald: finds replies to the agency's live social posts and hands each over as a tip, once",
      entry: entryPath('functions/replies/handler.ts'),
      serviceName: 'herald-replies-poller',
      memorySize: 512,
      timeout: REPLY_POLL_TIMEOUT,
      // A failed run is not retried: the next one, two minutes later, resumes from the saved cursors.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(2),
      environment: { [ENV.secretsPrefix]: props.secretsPrefix },
    })
      // listAlerts (GSI1 Query, then BatchGetItem of the latest versions), receipts of a version on a channel (Query on
      // a key prefix), its own partitions (Query), and its cursors (PutItem). No delete, no scan.
      // The poller's cursors and the tips it hands over (the intake reads the post's receipt and locks the reply).
      .bindTable(props.table, ['GetItem', 'Query', 'BatchGetItem', 'PutItem', 'UpdateItem']);
    // The social channels' credentials: to read replies as the agency's account (X, Mastodon, Threads, Telegram's bot;
    // Bluesky's only say the agency posts there), and to post the officers' public answers under residents' replies
    // (those and Facebook's and Instagram's).
    runOnSchedule(this, this.poller, {
      description: 'Runs the Herald replies poller every two minutes',
      rate: REPLY_POLL_RATE,
      secrets: REPLY_SECRET_CHANNELS.map((channel) => {
        const secret = props.secrets[channel];
        if (!secret) throw new Error(`the replies function needs the ${channel} secret`);
        return secret;
      }),
      alarmDescription: `Herald replies poller: ${REPLY_POLL_FAILED_RUNS} or more of its runs failed in ten minutes, so replies to the agency's social posts are not becoming tips. Its log group says why (most often a network secret's credentials).`,
      alarmPeriod: Duration.minutes(10),
      failedRuns: REPLY_POLL_FAILED_RUNS,
      alarmTopic: props.alarmTopic,
    });

    // ------------------------------------------------------------ the Meta webhook route, served by the api
    // The app secret and the verify token sit in the Meta channels' secrets (one Meta app serves both).
    props.api.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.secrets.facebook.secretArnPattern, props.secrets.instagram.secretArnPattern],
      }),
    );
    props.api.addEnvironment(ENV.secretsPrefix, props.secretsPrefix);
  }
}
