/**
 * Scheduled versions on AWS: the api function arms one EventBridge Scheduler one-time schedule per version with a
 * publishAt (functions/adapters/scheduler/eventbridge-timer.ts), which puts the version's dispatch message on the
 * dispatch queue just before its time; the dispatcher releases it on its second. Here:
 *
 * - Herald's schedule group, where those schedules and no others live;
 * - the role Scheduler sends with: only Scheduler, for this account and this group, may assume it, and it may only
 *   send messages to the dispatch queue and to the dead-letter queue below;
 * - that dead-letter queue, for a message Scheduler could not deliver after its retries, with an alarm;
 * - the api function's right to create, update and delete schedules in the group (no other group, no read, no list)
 *   and to pass that role to Scheduler (and to nothing else), and the names and ARNs it needs.
 *
 * A lost or failed schedule costs punctuality, never the version: the sweeper, every minute, releases whatever is due.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/config';
import type { HeraldFunction } from './herald-function';
import { alarmWhenNotEmpty } from './work-queue';

/** The calls the adapter makes, and only those: it never reads or lists a schedule. */
export const SCHEDULE_ACTIONS = [
  'scheduler:CreateSchedule',
  'scheduler:UpdateSchedule',
  'scheduler:DeleteSchedule',
] as const;

export const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

export interface PublishSchedulesProps {
  /** What the schedules send to: the dispatch queue. */
  dispatchQueue: IQueue;
  /** The api function, which arms and disarms the schedules. */
  api: HeraldFunction;
  alarmTopic: ITopic;
}

export class PublishSchedules extends Construct {
  readonly group: ScheduleGroup;
  readonly role: Role;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: PublishSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // Its name is generated (unique to this stack, known at synth), and it goes with the stack (deleting a group deletes its schedules): what it holds is
    // only ever a copy of what the table says is scheduled, which the sweeper releases at its time regardless.
    this.group = new ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });

    // Fourteen days (the SQS maximum), as for every Herald dead-letter queue: time to find why before it is gone.
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(this.deadLetterQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue of the scheduled-version schedules (their DeadLetterConfig); it is a dead-letter queue itself, and it alarms.',
      },
    ]);

    // Scheduler's confused-deputy guidance: the source account, and the ARN of the schedule group (not of a schedule).
    this.role = new Role(this, 'Role', {
      description: "EventBridge Scheduler sends a scheduled Herald version's dispatch message with this role",
      assumedBy: new ServicePrincipal(SCHEDULER_SERVICE, {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.scheduleGroupArn },
        },
      }),
    });
    // The target, and the dead-letter queue Scheduler writes to with the same role when the target refuses.
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [props.dispatchQueue.queueArn, this.deadLetterQueue.queueArn],
      }),
    );
    // Both are SSE-SQS today; a queue moved to a customer key would need the key too, granted on that key alone.
    for (const queue of [props.dispatchQueue, this.deadLetterQueue])
      queue.encryptionMasterKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');

    // ------------------------------------------------------------ the api: arm and disarm, in this group only
    const schedulesInGroup = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.group.scheduleGroupName}/*`,
    });
    props.api.addToRolePolicy(
      new PolicyStatement({ actions: [...SCHEDULE_ACTIONS], resources: [schedulesInGroup] }),
    );
    // A schedule names the role it runs with; creating one needs the right to pass that role, to Scheduler only.
    props.api.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
      }),
    );
    NagSuppressions.addResourceSuppressions(
      props.api.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "One schedule per scheduled version, named after it when it is scheduled, so the names cannot be listed in advance: the api may create, update and delete schedules in Herald's own schedule group (schedule/<group>/*) and in no other group, and may not read or list them.",
          appliesTo: [
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule\\/[^/*]+\\/\\*$/g',
            },
          ],
        },
      ],
      true,
    );
    props.api.addEnvironment(ENV.scheduleGroup, this.group.scheduleGroupName);
    props.api.addEnvironment(ENV.dispatchQueueArn, props.dispatchQueue.queueArn);
    props.api.addEnvironment(ENV.schedulerRoleArn, this.role.roleArn);
    props.api.addEnvironment(ENV.schedulerDeadLetterQueueArn, this.deadLetterQueue.queueArn);

    alarmWhenNotEmpty(this, 'DeadLettersAlarm', {
      queue: this.deadLetterQueue,
      description:
        "Herald scheduled versions: EventBridge Scheduler could not put a scheduled version's dispatch message on the dispatch queue after its retries. The sweeper released the version anyway, up to a minute late; the message says why Scheduler failed (most often the scheduler role's permissions or the queue).",
      topic: props.alarmTopic,
    });
  }
}
