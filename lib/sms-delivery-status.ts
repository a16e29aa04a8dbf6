/**
 * SMS delivery receipts. SNS writes the outcome of every SMS sent to a phone number into two log groups whose
 * names it fixes (`sns/<region>/<account>/DirectPublishToPhoneNumber` and `…/Failure`), but only once the
 * account's SMS settings name a role it may write them with. Both groups are subscribed to the sms-status
 * function, which moves each receipt to `delivered` or `failed`.
 */
import { Aws } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, RetentionDays, SubscriptionFilter } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { NamedLogGroup, suppressSdkCallProviderFindings } from './named-resources';

/** How long SNS's delivery reports are kept: the receipts in the table are the record, these the evidence. */
export const SMS_DELIVERY_LOG_RETENTION = RetentionDays.THREE_MONTHS;

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
  readonly successLogs: ILogGroup;
  readonly failureLogs: ILogGroup;
  readonly role: Role;
  /** The SNS SMS attributes Herald needs, as the SetSMSAttributes call takes them. */
  readonly attributes: Record<string, string>;
  private readonly groups: NamedLogGroup[];

  constructor(scope: Construct, id: string, props: SmsDeliveryStatusProps) {
    super(scope, id);
    const prefix = `sns/${Aws.REGION}/${Aws.ACCOUNT_ID}/DirectPublishToPhoneNumber`;
    // Made (or adopted: SNS may have made them, or an earlier deployment kept them) before anything is sent, so
    // they have a retention and mask the numbers from the first report on, and a subscription has its group.
    // Never deleted with the stack: they hold the delivery evidence.
    const group = (groupId: string, logGroupName: string) =>
      new NamedLogGroup(this, groupId, {
        logGroupName,
        retention: SMS_DELIVERY_LOG_RETENTION,
        maskContacts: true,
      });
    const success = group('Success', prefix);
    const failure = group('Failure', `${prefix}/Failure`);
    this.groups = [success, failure];
    this.successLogs = success.logGroup;
    this.failureLogs = failure.logGroup;

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
    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'The two delivery-status groups\' ARNs end in ":*", the form CloudWatch Logs authorizes on; it covers each group\'s log streams and no other group.',
          appliesTo: [
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:sns\\/.+:\\*$/g',
            },
          ],
        },
      ],
      true,
    );
    for (const named of this.groups) {
      // LambdaDestination also adds the Lambda permission for logs.amazonaws.com, scoped to this group.
      const filter = new SubscriptionFilter(this, `${named.node.id}ToConsumer`, {
        logGroup: named.logGroup,
        destination: new LambdaDestination(props.consumer),
        filterPattern: FilterPattern.allEvents(),
      });
      filter.node.addDependency(named.ready);
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
    // SNS starts writing once the settings name the role; by then the groups exist and mask, or SNS would make
    // them itself (no retention, no masking) and write the first reports unmasked.
    for (const named of this.groups) setter.node.addDependency(named.ready);
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
    suppressSdkCallProviderFindings(this);
  }
}
