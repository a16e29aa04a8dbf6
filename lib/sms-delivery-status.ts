/**
 * SMS delivery receipts. SNS writes the outcome of every SMS sent to a phone number into two log groups whose
 * names it fixes (`sns/<region>/<account>/DirectPublishToPhoneNumber` and `…/Failure`), but only once the
 * account's SMS settings name a role it may write them with. Both groups are subscribed to the sms-status
 * function, which moves each receipt to `delivered` or `failed`.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, LogGroup, RetentionDays, SubscriptionFilter } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface SmsDeliveryStatusProps {
  /** Receives both log groups' events through CloudWatch Logs subscriptions. */
  consumer: IFunction;
  /**
   * Set the account's SMS attributes (the delivery-status role, 100 % success sampling, Transactional) from
   * the stack. False leaves them to the one-time CLI step printed in the stack output instead, for an account
   * whose SMS settings belong to someone else.
   */
  manageAccountSettings: boolean;
}

export class SmsDeliveryStatus extends Construct {
  readonly successLogs: LogGroup;
  readonly failureLogs: LogGroup;
  readonly role: Role;
  /** The SNS SMS attributes Herald needs, as the SetSMSAttributes call takes them. */
  readonly attributes: Record<string, string>;

  constructor(scope: Construct, id: string, props: SmsDeliveryStatusProps) {
    super(scope, id);
    const prefix = `sns/${Aws.REGION}/${Aws.ACCOUNT_ID}/DirectPublishToPhoneNumber`;
    // Created here rather than by SNS on first use, so they have a retention and exist before anything is sent
    // (a subscription needs its group). Kept on stack deletion: they hold the delivery evidence.
    this.successLogs = new LogGroup(this, 'Success', {
      logGroupName: prefix,
      retention: RetentionDays.THREE_MONTHS,
    });
    this.failureLogs = new LogGroup(this, 'Failure', {
      logGroupName: `${prefix}/Failure`,
      retention: RetentionDays.THREE_MONTHS,
    });

    // The role SNS assumes to write those logs, limited to the two groups and to SNS acting for this account.
    this.role = new Role(this, 'LogWriter', {
      description: 'SNS writes SMS delivery-status logs for Herald with this role',
      assumedBy: new ServicePrincipal('sns.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({
        // What AWS documents for the delivery-status role; CreateLogGroup and PutRetentionPolicy find the
        // groups already made, and SNS calls them anyway.
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:PutMetricFilter',
          'logs:PutRetentionPolicy',
        ],
        // A group's ARN ends in `:*`, which also covers its streams (`:log-stream:<name>`).
        resources: [this.successLogs.logGroupArn, this.failureLogs.logGroupArn],
      }),
    );
    for (const group of [this.successLogs, this.failureLogs]) {
      // LambdaDestination also adds the Lambda permission for logs.amazonaws.com, scoped to this group.
      new SubscriptionFilter(this, `${group.node.id}ToConsumer`, {
        logGroup: group,
        destination: new LambdaDestination(props.consumer),
        filterPattern: FilterPattern.allEvents(),
      });
    }

    this.attributes = {
      DeliveryStatusIAMRole: this.role.roleArn,
      DeliveryStatusSuccessSamplingRate: '100',
      DefaultSMSType: 'Transactional',
    };
    if (props.manageAccountSettings) this.setAccountAttributes();
  }

  /**
   * SMS attributes are account-wide (per region), so no resource of this stack can carry them; a custom
   * resource calls SetSMSAttributes on create and update. Forgetting a manual step would lose every SMS
   * receipt silently, which is worse than a small Lambda that may change these three settings. Deleting
   * the stack leaves them as they are: other senders in the account may rely on them by then.
   */
  private setAccountAttributes(): void {
    const call = {
      service: 'SNS',
      action: 'SetSMSAttributes',
      parameters: { attributes: this.attributes },
      physicalResourceId: PhysicalResourceId.of('herald-sms-attributes'),
    };
    const setter = new AwsCustomResource(this, 'AccountSmsAttributes', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      policy: AwsCustomResourcePolicy.fromStatements([
        // SetSMSAttributes acts on the account and supports no resource-level permissions.
        new PolicyStatement({ actions: ['sns:SetSMSAttributes'], resources: ['*'] }),
        // Naming the role in the settings hands it to SNS.
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['iam:PassRole'],
          resources: [this.role.roleArn],
        }),
      ]),
    });
    setter.node.addDependency(this.role);
    const stack = Stack.of(this);
    NagSuppressions.addResourceSuppressions(
      setter,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'sns:SetSMSAttributes sets account-level SMS settings and supports no resource-level permission, so IAM requires Resource "*"; the policy allows that one action.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
    // The custom resource runs on one singleton function per stack, created by the CDK with the managed
    // basic-execution policy and the runtime the CDK version chose.
    const provider = stack.node.tryFindChild(
      `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider) {
      NagSuppressions.addResourceSuppressions(
        provider,
        [
          {
            id: 'AwsSolutions-IAM4',
            reason:
              "The CDK's AwsCustomResource provider function uses AWSLambdaBasicExecutionRole for its own logs; it runs only during deployments.",
            appliesTo: [
              'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
            ],
          },
          {
            id: 'AwsSolutions-L1',
            reason:
              'The runtime of the CDK-provided custom-resource function is chosen by the aws-cdk-lib version and moves with it.',
          },
        ],
        true,
      );
    }
  }
}
