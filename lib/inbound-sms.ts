/**
 * Inbound SMS (residents texting JOIN, STOP, START, HELP to the agency's number). AWS End User Messaging SMS
 * publishes every text the number receives to the SNS topic made here (the number's two-way channel), and the
 * topic delivers it over HTTPS to the API's public route POST /v1/inbound/sms, where the api function checks
 * SNS's signature and the topic ARN before acting on it. The subscription is confirmed by the route itself: it
 * GETs the signed SubscribeURL SNS sends, which needs no IAM permission (so the api is granted none on the topic).
 *
 * The phone number itself is bought, registered (10DLC, toll-free verification, short code, or a country's
 * sender registration) and pointed at this topic outside CDK: CloudFormation can create a number, but
 * registration is a paperwork process with the carriers that takes days to weeks, and an agency usually moves
 * its existing number rather than buying one per deployment. The stack outputs the topic ARN to set as the
 * number's two-way channel.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BackoffFunction, type ITopic, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct, type IDependable } from 'constructs';
import { alarmWhenNotEmpty } from './work-queue';

/** The service principal of AWS End User Messaging SMS (formerly Pinpoint SMS), which publishes two-way SMS. */
export const SMS_VOICE_PRINCIPAL = 'sms-voice.amazonaws.com';

/** The path of the route the topic delivers to, below the API's base URL (which ends in `/`). */
export const INBOUND_SMS_PATH = 'v1/inbound/sms';

/**
 * Deliveries per second SNS makes to the route: below the API stage's rate limit (50/s, shared with the
 * console), so that a burst of replies after a city-wide alert is queued by SNS instead of being answered 429
 * by API Gateway, which SNS does not retry.
 */
export const INBOUND_DELIVERIES_PER_SECOND = 20;

export interface InboundSmsProps {
  /** The HTTP API's base URL, ending in `/` (the `$default` stage's url). */
  apiBaseUrl: string;
  /**
   * What must exist before SNS sends the subscription confirmation to the route (the stage and the route):
   * SNS posts it as soon as the subscription is created, and a confirmation that finds no route is lost.
   */
  routeReady: IDependable[];
  alarmTopic: ITopic;
}

export class InboundSms extends Construct {
  readonly topic: Topic;
  /** Texts SNS could not deliver to the route after its retries (the API was down for long): kept 14 days. */
  readonly undelivered: Queue;
  readonly endpoint: string;

  constructor(scope: Construct, id: string, props: InboundSmsProps) {
    super(scope, id);

    // Residents' phone numbers and what they text travel through this topic: encrypted under a key of its own,
    // since the AWS-managed SNS key admits no service and End User Messaging must encrypt what it publishes.
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the texts residents send to the agency number (Herald inbound SMS)',
      enableKeyRotation: true,
    });
    // Only End User Messaging acting for a phone number or pool of this account (confused-deputy guard).
    const fromThisAccountsNumbers = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:sms-voice:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
    };
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(SMS_VOICE_PRINCIPAL)],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromThisAccountsNumbers,
      }),
    );

    this.topic = new Topic(this, 'Topic', {
      displayName: 'Herald inbound SMS',
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(SMS_VOICE_PRINCIPAL)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisAccountsNumbers,
      }),
    );

    this.undelivered = new Queue(this, 'Undelivered', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(this.undelivered, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue of the inbound SMS subscription: it keeps texts SNS could not deliver, and it alarms.',
      },
    ]);

    this.endpoint = `${props.apiBaseUrl}${INBOUND_SMS_PATH}`;
    const subscription = this.topic.addSubscription(
      new UrlSubscription(this.endpoint, {
        protocol: SubscriptionProtocol.HTTPS,
        // The JSON envelope, not the raw message: the api function verifies SNS's signature over it.
        rawMessageDelivery: false,
        deadLetterQueue: this.undelivered,
        deliveryPolicy: {
          // A STOP must not be lost to a short outage: retry for about 20 minutes (SNS allows up to an hour),
          // then keep the text in the dead-letter queue.
          healthyRetryPolicy: {
            minDelayTarget: Duration.seconds(1),
            maxDelayTarget: Duration.seconds(60),
            numRetries: 20,
            backoffFunction: BackoffFunction.EXPONENTIAL,
          },
          throttlePolicy: { maxReceivesPerSecond: INBOUND_DELIVERIES_PER_SECOND },
          // No requestPolicy: SNS's default text/plain is what the route parses (the envelope is JSON either way).
        },
      }),
    );
    for (const dependency of props.routeReady) subscription.node.addDependency(dependency);

    alarmWhenNotEmpty(this, 'UndeliveredAlarm', {
      queue: this.undelivered,
      description:
        'Herald inbound SMS: a text a resident sent (possibly a STOP) could not be delivered to the API after retries; it waits in the dead-letter queue. Fix the API, then publish each kept message to the inbound topic again.',
      topic: props.alarmTopic,
    });
  }
}
