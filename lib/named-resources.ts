/**
 * Resources whose names are fixed (by AWS, or by the code that reads them) and that outlive the stack. A plain
 * CloudFormation resource with a fixed name fails with "already exists" whenever the name is taken: by SNS, which
 * creates its delivery-status log groups itself on first use; or by this stack's own earlier deployment, whose
 * retained resources a `cdk destroy` leaves behind. So these are made by SDK calls at deploy time instead (the
 * CDK's AwsCustomResource): created if missing, adopted as they are if present, set up the same way either time,
 * and never deleted with the stack (no call on delete).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type ILogGroup, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import { Construct, DependencyGroup } from 'constructs';
import { contactMaskingPolicyDocument } from './masking';

/**
 * The one Lambda function that runs every AwsCustomResource of a stack, made by the CDK with the managed basic
 * execution policy and a runtime of the CDK's choosing. Call after the first AwsCustomResource exists.
 */
export function suppressSdkCallProviderFindings(scope: Construct): void {
  const stack = Stack.of(scope);
  const provider = stack.node.tryFindChild(
    `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  if (!provider) return;
  NagSuppressions.addResourceSuppressions(
    provider,
    [
      {
        id: 'AwsSolutions-IAM4',
        reason:
          "The CDK's AwsCustomResource provider function uses AWSLambdaBasicExecutionRole for its own logs; it runs only during deployments.",
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
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

/** One SDK call made on create and again on every update (an update may follow a change of settings). */
function onCreateAndUpdate(
  scope: Construct,
  id: string,
  call: AwsSdkCall,
  statements: PolicyStatement[],
): AwsCustomResource {
  const resource = new AwsCustomResource(scope, id, {
    onCreate: call,
    onUpdate: call,
    installLatestAwsSdk: false,
    policy: AwsCustomResourcePolicy.fromStatements(statements),
  });
  suppressSdkCallProviderFindings(scope);
  return resource;
}

export interface NamedLogGroupProps {
  logGroupName: string;
  retention: RetentionDays;
  /** Mask phone numbers and email addresses (lib/masking.ts). */
  maskContacts: boolean;
}

/** A log group by its fixed name: created unless it exists, then given its retention and masking policy. */
export class NamedLogGroup extends Construct {
  readonly logGroup: ILogGroup;
  /** Complete once the group exists with its retention and masking: what anything using the group depends on. */
  readonly ready = new DependencyGroup();

  constructor(scope: Construct, id: string, props: NamedLogGroupProps) {
    super(scope, id);
    const { logGroupName } = props;
    this.logGroup = LogGroup.fromLogGroupName(this, 'Group', logGroupName);
    // CloudWatch Logs authorizes most calls on the ARN ending in `:*` (logGroupArn here), some on the bare one.
    // Both name this group alone: the `:*` covers its streams, and a longer name (…/Failure) has `/` there.
    const arns = [
      this.logGroup.logGroupArn,
      Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ];
    const allow = (action: string) => [new PolicyStatement({ actions: [action], resources: arns })];
    const physicalResourceId = PhysicalResourceId.of(logGroupName);

    const create = onCreateAndUpdate(
      this,
      'Create',
      {
        service: 'CloudWatchLogs',
        action: 'CreateLogGroup',
        parameters: { logGroupName },
        physicalResourceId,
        // Made by SNS already, or kept from an earlier deployment: adopted as it is.
        ignoreErrorCodesMatching: 'ResourceAlreadyExistsException',
      },
      allow('logs:CreateLogGroup'),
    );
    const retention = onCreateAndUpdate(
      this,
      'Retention',
      {
        service: 'CloudWatchLogs',
        action: 'PutRetentionPolicy',
        parameters: { logGroupName, retentionInDays: props.retention },
        physicalResourceId,
      },
      allow('logs:PutRetentionPolicy'),
    );
    retention.node.addDependency(create);
    this.ready.add(create, retention);
    if (props.maskContacts) {
      const masking = onCreateAndUpdate(
        this,
        'Masking',
        {
          service: 'CloudWatchLogs',
          action: 'PutDataProtectionPolicy',
          parameters: {
            logGroupIdentifier: logGroupName,
            policyDocument: contactMaskingPolicyDocument(this),
          },
          physicalResourceId,
        },
        allow('logs:PutDataProtectionPolicy'),
      );
      masking.node.addDependency(create);
      this.ready.add(masking);
    }
    for (const call of this.node.findAll().filter((c) => c instanceof AwsCustomResource)) {
      NagSuppressions.addResourceSuppressions(
        call,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'CloudWatch Logs authorizes log-group calls on the group\'s ARN ending in ":*", which names this one group (by its full name) and its log streams, no other group.',
            appliesTo: [
              {
                regex:
                  '/^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:.+:\\*$/g',
              },
            ],
          },
        ],
        true,
      );
    }
  }
}

export interface NamedSecretProps {
  secretName: string;
  description: string;
}

/**
 * A Secrets Manager secret by its fixed name, created holding `{}` unless a secret of that name exists, which is
 * then left exactly as it is: its value is what the agency put there. Never updated or deleted by the stack.
 */
export class NamedSecret extends Construct {
  readonly secretName: string;
  /** Every ARN a secret of this name can have: Secrets Manager appends `-` and six random characters. */
  readonly secretArnPattern: string;

  constructor(scope: Construct, id: string, props: NamedSecretProps) {
    super(scope, id);
    this.secretName = props.secretName;
    this.secretArnPattern = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${props.secretName}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    onCreateAndUpdate(
      this,
      'Create',
      {
        service: 'SecretsManager',
        action: 'CreateSecret',
        parameters: { Name: props.secretName, Description: props.description, SecretString: '{}' },
        physicalResourceId: PhysicalResourceId.of(props.secretName),
        // Kept from an earlier deployment (or made by hand): adopted with the value it holds.
        ignoreErrorCodesMatching: 'ResourceExistsException',
      },
      [new PolicyStatement({ actions: ['secretsmanager:CreateSecret'], resources: [this.secretArnPattern] })],
    );
  }
}
