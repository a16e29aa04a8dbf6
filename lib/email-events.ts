/**
 * Email receipts: an SES configuration set every Herald email is sent with, whose delivery, bounce,
 * complaint and reject events go to an encrypted SNS topic that the email-events function subscribes to.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ConfigurationSet, EmailSendingEvent, EventDestination } from 'aws-cdk-lib/aws-ses';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { alarmWhenNotEmpty } from './work-queue';

/** The SES events that move a receipt: delivered, or failed with a bounce, a complaint or a rejection. */
export const EMAIL_RECEIPT_EVENTS = [
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.REJECT,
] as const;

export interface EmailEventsProps {
  consumer: IFunction;
  /** The SES identity Herald sends from: a verified domain (`agency.example`) or address. */
  identity: string;
  /** Told when an event could not be handed to the consumer at all. */
  alarmTopic: ITopic;
}

export class EmailEvents extends Construct {
  readonly configurationSet: ConfigurationSet;
  readonly topic: Topic;
  /** Events SNS could not hand to the consumer (the function missing, or not letting SNS invoke it): 14 days. */
  readonly undelivered: Queue;
  readonly identityArn: string;
  readonly configurationSetArn: string;

  constructor(scope: Construct, id: string, props: EmailEventsProps) {
    super(scope, id);

    // SES cannot publish to a topic under the AWS-managed SNS key (its policy admits no service), so the
    // topic has its own key whose policy lets SES encrypt what it publishes.
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts Herald email delivery events',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic = new Topic(this, 'Topic', { masterKey: key, enforceSSL: true });

    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
    });
    // Adds the topic policy that lets SES publish for this configuration set only.
    this.configurationSet.addEventDestination('ReceiptEvents', {
      destination: EventDestination.snsTopic(this.topic),
      events: [...EMAIL_RECEIPT_EVENTS],
    });

    // Subscribed directly, not through a queue: SNS invokes Lambda asynchronously, so Lambda's own retries
    // and the function's failure destination (set where the function is made) keep an event that fails. What
    // never reaches Lambda (an invoke SNS gives up on) lands in this dead-letter queue instead of being dropped:
    // CDK gives the queue a policy that lets this topic, and nothing else, send to it.
    this.undelivered = new Queue(this, 'Undelivered', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(this.undelivered, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue of the email-events subscription: it keeps SES events SNS could not deliver, and it alarms.',
      },
    ]);
    this.topic.addSubscription(new LambdaSubscription(props.consumer, { deadLetterQueue: this.undelivered }));
    alarmWhenNotEmpty(this, 'UndeliveredAlarm', {
      queue: this.undelivered,
      description:
        'Herald email events: an SES delivery, bounce or complaint event could not be handed to the email-events function; its receipt stays at sent. It waits in the dead-letter queue: fix the subscription, then publish each kept message to the topic again.',
      topic: props.alarmTopic,
    });

    const stack = Stack.of(this);
    this.identityArn = stack.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: props.identity,
    });
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /**
   * Lets `fn` send as the identity with this configuration set. SES v2 SendEmail is authorised as
   * ses:SendEmail, or ses:SendRawEmail for raw MIME (the CAP attachment, threading headers), against both ARNs.
   */
  grantSend(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [this.identityArn, this.configurationSetArn],
      }),
    );
  }
}
