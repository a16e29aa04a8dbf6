/**
 * The CloudWatch Logs data-protection policy of every log group that may hold a resident's or outlet's address:
 * phone numbers and email addresses are masked as they are ingested, so whoever reads the logs (the console,
 * Logs Insights, an export) sees asterisks unless they hold logs:Unmask. The functions mask addresses in what they
 * log on purpose; this catches what they log by accident (an error that quotes a request or an SDK response) and
 * what SNS writes itself (the delivery-status logs name each destination number).
 */
import { Stack } from 'aws-cdk-lib';
import { CustomDataIdentifier, DataIdentifier, DataProtectionPolicy } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * The managed identifiers CloudWatch Logs has for phone numbers (one per country it knows: an agency may be in any
 * of them, and residents text from abroad) and for email addresses.
 */
export const MANAGED_CONTACT_IDENTIFIERS: readonly DataIdentifier[] = [
  DataIdentifier.PHONENUMBER_US,
  DataIdentifier.PHONENUMBER_GB,
  DataIdentifier.PHONENUMBER_ES,
  DataIdentifier.PHONENUMBER_FR,
  DataIdentifier.PHONENUMBER_DE,
  DataIdentifier.PHONENUMBER_IT,
  DataIdentifier.PHONENUMBER_BR,
  DataIdentifier.EMAILADDRESS,
];

/**
 * Any E.164 number (`+` then up to 15 digits), which is how Herald stores, sends and logs every phone number. The
 * managed phone identifiers cover seven countries and look for a keyword such as "phone" near the number; SNS's
 * delivery logs call it `destination`, and an agency may be elsewhere, so this one matches the number by itself.
 */
export const E164_IDENTIFIER = new CustomDataIdentifier('HeraldE164PhoneNumber', '\\+[1-9][0-9]{7,14}');

export const MASKING_POLICY_NAME = 'herald-mask-contacts';
const MASKING_POLICY_DESCRIPTION = "Masks residents' and outlets' phone numbers and email addresses";

/** For a log group the stack makes (logs.LogGroup's `dataProtectionPolicy`). */
export function contactMaskingPolicy(): DataProtectionPolicy {
  return new DataProtectionPolicy({
    name: MASKING_POLICY_NAME,
    description: MASKING_POLICY_DESCRIPTION,
    identifiers: [...MANAGED_CONTACT_IDENTIFIERS, E164_IDENTIFIER],
  });
}

/**
 * The same policy as the JSON document PutDataProtectionPolicy takes, for a log group the stack adopts rather than
 * makes (lib/named-resources.ts). Written out in the shape the CDK renders for `contactMaskingPolicy`: one audit
 * statement (no findings destination) and one that masks, over the same identifiers.
 */
export function contactMaskingPolicyDocument(scope: Construct): string {
  const stack = Stack.of(scope);
  const identifiers = [
    ...MANAGED_CONTACT_IDENTIFIERS.map((identifier) =>
      stack.formatArn({
        service: 'dataprotection',
        region: '',
        account: 'aws',
        resource: 'data-identifier',
        resourceName: identifier.name,
      }),
    ),
    E164_IDENTIFIER.name,
  ];
  // JSON.stringify keeps the partition's token inside the text; the custom resource's own encoding of its call
  // turns the whole into one Fn::Join.
  return JSON.stringify({
    Name: MASKING_POLICY_NAME,
    Description: MASKING_POLICY_DESCRIPTION,
    Version: '2021-06-01',
    Configuration: {
      CustomDataIdentifier: [{ Name: E164_IDENTIFIER.name, Regex: E164_IDENTIFIER.regex }],
    },
    Statement: [
      {
        Sid: 'audit',
        DataIdentifier: identifiers,
        Operation: { Audit: { FindingsDestination: {} } },
      },
      {
        Sid: 'mask',
        DataIdentifier: identifiers,
        Operation: { Deidentify: { MaskConfig: {} } },
      },
    ],
  });
}
