/**
 * Email receipts: an SES configuration set every Herald email is sent with, whose delivery, bounce,
 * complaint and reject events go to an encrypted SNS topic that the email-events function subscribes to.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ConfigurationSet, EmailSendingEvent, EventDestination } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

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
}

export class EmailEvents extends Construct {
  readonly configurationSet: ConfigurationSet;
  readonly topic: Topic;
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
    // and the function's failure destination (set where the function is made) keep an event that fails.
    this.topic.addSubscription(new LambdaSubscription(props.consumer));

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
