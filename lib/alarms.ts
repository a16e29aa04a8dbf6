/**
 * The alarms an agency must hear about at night, beyond the queues' own (lib/work-queue.ts): the API failing or
 * refusing, a function failing or being throttled, a social provider rejecting Herald's token, SMS about to stop
 * at the account's monthly spend limit, and SES about to put the account under review. Every one tells the alarm
 * topic when it fires and when it clears.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { FilterPattern } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CREDENTIALS_REJECTED_MESSAGE } from '../functions/adapters/providers/graph';
import type { HeraldFunction } from './herald-function';

/** SNS's monthly SMS spend limit of a new account, in USD, until AWS raises it on request. */
export const DEFAULT_SMS_MONTHLY_SPEND_LIMIT_USD = 1;

/** The numbers the alarms fire at; exported so that the tests read the same ones. */
export const ALARM_THRESHOLDS = {
  /** API answers 5xx (Sum over five minutes): one may be a blip, five in five minutes is an outage. */
  api5xx: 5,
  /** Share of API requests answered 4xx over five minutes, twice running, once there are enough to judge. */
  api4xxShare: 0.5,
  api4xxMinRequests: 100,
  /** Function errors (Sum over five minutes): a single one is retried; five mean it keeps failing. */
  functionErrors: 5,
  /** Function throttles (Sum over five minutes): any means the account's concurrency ran out. */
  functionThrottles: 1,
  /** Share of the monthly SMS spend limit reached: SNS stops sending SMS at the limit. */
  smsSpendShare: 0.8,
  /** SES reviews an account whose bounce rate passes 5 % and whose complaint rate passes 0.1 %. */
  sesBounceRate: 0.05,
  sesComplaintRate: 0.001,
} as const;

export interface OperationalAlarmsProps {
  topic: ITopic;
  httpApi: HttpApi;
  functions: readonly HeraldFunction[];
  /** The account's SNS MonthlySpendLimit in USD (context `smsMonthlySpendLimit`). */
  smsMonthlySpendLimitUsd: number;
  /** The channels that post through Meta's Graph API, with the secret a new token goes in. */
  metaChannels: readonly { channel: string; fn: HeraldFunction; secretName: string }[];
}

export class OperationalAlarms extends Construct {
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    this.action = new SnsAction(props.topic);
    const fiveMinutes = Duration.minutes(5);
    const t = ALARM_THRESHOLDS;

    // ------------------------------------------------------------ API
    this.alarm('Api5xx', {
      description: `Herald API: ${t.api5xx} or more requests answered 5xx in five minutes; officers may be unable to issue alerts. Look at the api function's errors and the access log.`,
      metric: props.httpApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: t.api5xx,
    });
    // HTTP APIs publish no throttle metric (only Count, 4xx, 5xx, Latency, IntegrationLatency, DataProcessed):
    // a request the stage's or a route's limits refuse is answered 429 and counted under 4xx. So API throttling
    // shows as the share of 4xx jumping (a flood of refused sign-ups or reads, or officers refused alongside
    // them), and throttling of the functions behind the API as each function's Throttles alarm below.
    this.alarm('Api4xxShare', {
      description: `Herald API: over ${t.api4xxShare * 100} % of requests answered 4xx for ten minutes, which is how throttling (429) shows on an HTTP API; a broken sign-in gives the same picture. Look at the status codes in the access log.`,
      metric: new MathExpression({
        expression: `IF(requests >= ${t.api4xxMinRequests}, refused / requests, 0)`,
        usingMetrics: {
          refused: props.httpApi.metricClientError({ period: fiveMinutes, statistic: 'Sum' }),
          requests: props.httpApi.metricCount({ period: fiveMinutes, statistic: 'Sum' }),
        },
        period: fiveMinutes,
        label: 'Share of API requests answered 4xx',
      }),
      threshold: t.api4xxShare,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
    });

    // ------------------------------------------------------------ functions
    for (const fn of props.functions) {
      const name = fn.node.id;
      this.alarm(`${name}Errors`, {
        description: `Herald ${fn.serviceName}: ${t.functionErrors} or more failed invocations in five minutes. Its log group says why.`,
        metric: fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: t.functionErrors,
      });
      // No function has reserved concurrency and the queue consumers cap their own, so a throttle means the
      // account's concurrency is spent: every function, the api included, is being turned away.
      this.alarm(`${name}Throttles`, {
        description: `Herald ${fn.serviceName}: invocations throttled; the account's Lambda concurrency is exhausted and alerts wait. Raise the concurrency quota or find what is using it.`,
        metric: fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: t.functionThrottles,
      });
    }

    // ------------------------------------------------------------ expired social tokens
    // A rejected Meta token (Graph API error 190) fails every post until someone issues a new one, so it
    // alarms at once instead of waiting for the dead-letter queue. The providers log this exact message.
    for (const { channel, fn, secretName } of props.metaChannels) {
      const metricName = `ProviderCredentialsRejected-${channel}`;
      fn.logGroup.addMetricFilter(`CredentialsRejected-${channel}`, {
        filterPattern: FilterPattern.stringValue('$.message', '=', CREDENTIALS_REJECTED_MESSAGE),
        metricNamespace: 'Herald',
        metricName,
        metricValue: '1',
      });
      this.alarm(`CredentialsRejected-${channel}`, {
        description: `Herald ${channel}: the provider rejected Herald's credentials (token expired or revoked, Graph API error 190). Nothing posts on ${channel} until a new token is put in the secret ${secretName}.`,
        metric: new Metric({
          namespace: 'Herald',
          metricName,
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
      });
    }

    // ------------------------------------------------------------ SMS spend
    const limit = props.smsMonthlySpendLimitUsd;
    this.alarm('SmsSpend', {
      description: `Herald SMS: this month's SMS spend has reached ${t.smsSpendShare * 100} % of the account's ${limit} USD limit (context smsMonthlySpendLimit); at the limit SNS stops sending texts. Ask AWS to raise the SNS monthly SMS spend limit now.`,
      // Account-wide for the region, with no dimension; Maximum is the statistic SNS documents for it.
      metric: new Metric({
        namespace: 'AWS/SNS',
        metricName: 'SMSMonthToDateSpentUSD',
        statistic: 'Maximum',
        period: fiveMinutes,
      }),
      threshold: t.smsSpendShare * limit,
    });

    // ------------------------------------------------------------ SES reputation
    // The account's rates, not the configuration set's: they are what SES reviews and pauses the account on.
    const reputation = (metricName: string) =>
      new Metric({ namespace: 'AWS/SES', metricName, statistic: 'Maximum', period: Duration.hours(1) });
    this.alarm('SesBounceRate', {
      description: `Herald email: the SES bounce rate is over ${t.sesBounceRate * 100} %, where SES puts the account under review (and pauses sending at 10 %). Remove the outlets whose addresses bounce.`,
      metric: reputation('Reputation.BounceRate'),
      threshold: t.sesBounceRate,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarm('SesComplaintRate', {
      description: `Herald email: the SES complaint rate is over ${t.sesComplaintRate * 100} %, where SES puts the account under review (and pauses sending at 0.5 %). Find which outlets mark the alerts as spam.`,
      metric: reputation('Reputation.ComplaintRate'),
      threshold: t.sesComplaintRate,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  private alarm(
    id: string,
    props: {
      description: string;
      metric: IMetric;
      threshold: number;
      comparisonOperator?: ComparisonOperator;
      evaluationPeriods?: number;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      // No data is no trouble: no requests, no invocations, no SMS or email sent this period.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}
