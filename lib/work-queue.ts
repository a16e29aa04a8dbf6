/**
 * One SQS work queue with its dead-letter queue, its consumer and its alarms. Every Herald queue is
 * built here so redrive, visibility and alerting cannot drift apart between queues.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueName } from '../functions/ports';
import { ENV, queueUrlEnv } from '../functions/shared/config';
import type { HeraldFunction } from './herald-function';

/**
 * Receives before a message is dead-lettered. The consumer is told the same number (ENV.maxReceives) so
 * it knows when an attempt is the last one and can record a final failure instead of a retry.
 */
export const MAX_RECEIVES = 5;

/**
 * Alarms as soon as any message waits in a queue that should stay empty (a dead-letter or failure queue), and
 * says so again when it is emptied, both to `topic`.
 */
export function alarmWhenNotEmpty(
  scope: Construct,
  id: string,
  props: { queue: IQueue; description: string; topic: ITopic },
): Alarm {
  const alarm = new Alarm(scope, id, {
    alarmDescription: props.description,
    metric: props.queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  const action = new SnsAction(props.topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}

/**
 * AWS's guidance for Lambda consumers: a batch may be retried after throttling while the first
 * invocation still runs, and the message must stay invisible throughout, so allow six timeouts.
 */
export const VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT = 6;

export const BATCH_SIZE = 10;

export interface WorkQueueProps {
  name: QueueName;
  consumer: HeraldFunction;
  /** Concurrent invocations the event source may run (2–1000); unset means no limit beyond the account's. */
  maxConcurrency?: number;
  /** Messages per invocation (1–10). @default BATCH_SIZE */
  batchSize?: number;
  alarmTopic: ITopic;
  /** A message older than this means the consumer is stuck or far behind: alarm. */
  maxMessageAge: Duration;
}

export class WorkQueue extends Construct {
  readonly name: QueueName;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const { name, consumer, alarmTopic } = props;
    this.name = name;

    // Fourteen days (the SQS maximum): time to find the cause and redrive before anything is lost.
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // SSE-SQS rather than a customer KMS key: messages (alert id, version, recipients) are encrypted at
    // rest either way, and a customer key would mean kms:GenerateDataKey/kms:Decrypt for every producer
    // and consumer, plus a KMS request per batch, for control nobody here needs over short-lived jobs.
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(
        consumer.timeout.toSeconds() * VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT,
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
    });

    // The event source grants Receive/Delete/ChangeMessageVisibility on this queue only; the consumer needs
    // the URL to back off a retryable failure with ChangeMessageVisibility.
    consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? BATCH_SIZE,
        reportBatchItemFailures: true,
        ...(props.maxConcurrency === undefined ? {} : { maxConcurrency: props.maxConcurrency }),
      }),
    );
    consumer.addEnvironment(ENV.maxReceives, String(MAX_RECEIVES));
    consumer.addEnvironment(queueUrlEnv(name), this.queue.queueUrl);

    const action = new SnsAction(alarmTopic);
    const period = Duration.minutes(1);
    alarmWhenNotEmpty(this, 'DeadLettersAlarm', {
      queue: this.deadLetterQueue,
      description: `Herald ${name}: a message was dead-lettered; a delivery may not have happened. Inspect and redrive.`,
      topic: alarmTopic,
    });
    const age = new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `Herald ${name}: the oldest message has waited over ${props.maxMessageAge.toHumanString()}; alerts are going out late.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: props.maxMessageAge.toSeconds(),
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    age.addAlarmAction(action);
    age.addOkAction(action);
  }
}
