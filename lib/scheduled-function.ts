/**
 * A function run on a fixed rate by EventBridge Scheduler, as the replies poller (lib/replies.ts) and the engagement
 * poller (lib/engagement.ts) are: what it may read of the channels' secrets, the schedule and the role it invokes
 * through, and the alarm on its failing runs.
 *
 * A function, not a construct: what it makes is named in the caller's scope ('ScheduleRole', 'Schedule',
 * 'FailingAlarm'), so a deployed poller's logical ids, and so its resources, do not depend on where this code lives.
 */
import { type Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { HeraldFunction } from './herald-function';
import type { NamedSecret } from './named-resources';
import { SCHEDULER_SERVICE } from './publish-schedules';

export interface ScheduledFunctionProps {
  /** The schedule's description, which says what it runs and how often. */
  description: string;
  /** How often it runs; a run not started within one period is dropped, as the next one covers it. */
  rate: Duration;
  /** The secrets it may read (GetSecretValue), those and no other. */
  secrets: readonly NamedSecret[];
  /** Why the alarm fires and what to look at. */
  alarmDescription: string;
  /** The window failed runs are counted over. */
  alarmPeriod: Duration;
  /** Failed runs in that window that raise the alarm. */
  failedRuns: number;
  alarmTopic: ITopic;
}

/** Grants `fn` its secrets, and runs it on `props.rate` with an alarm on its failed runs; returns the alarm. */
export function runOnSchedule(scope: Construct, fn: HeraldFunction, props: ScheduledFunctionProps): Alarm {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: props.secrets.map((secret) => secret.secretArnPattern),
    }),
  );

  // EventBridge Scheduler rather than a rule: its target carries a retry policy of its own (none: the next run
  // covers a missed one) and invokes through a role of its own. The role is made here, not by the CDK's
  // LambdaInvoke target, whose grantInvoke would add `<function ARN>:*` (every version) to what it may invoke.
  const invoker = new Role(scope, 'ScheduleRole', {
    assumedBy: new ServicePrincipal(SCHEDULER_SERVICE, {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  });
  invoker.addToPolicy(
    new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
  );
  new Schedule(scope, 'Schedule', {
    description: props.description,
    schedule: ScheduleExpression.rate(props.rate),
    target: {
      bind: () => ({
        arn: fn.functionArn,
        role: invoker,
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: props.rate.toSeconds() },
      }),
    },
  });

  // The stack alarms on every function's errors at five in five minutes, which a run every few minutes never
  // reaches: this one counts failed runs over a longer window.
  const alarm = new Alarm(scope, 'FailingAlarm', {
    alarmDescription: props.alarmDescription,
    metric: fn.metricErrors({ period: props.alarmPeriod, statistic: 'Sum' }),
    threshold: props.failedRuns,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(props.alarmTopic));
  alarm.addOkAction(new SnsAction(props.alarmTopic));
  return alarm;
}
