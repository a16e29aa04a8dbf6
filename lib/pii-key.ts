/**
 * The KMS key behind residents' and media outlets' addresses (phone numbers, emails, webhook URLs). It wraps
 * one data key, kept as an item in the table (functions/adapters/pii/kms.ts); the functions that read or write
 * addresses unwrap it once per container and encrypt and hash locally. Only they may use the key, and only for
 * that purpose: every grant requires the encryption context the cipher sends.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
// The encryption context every call of the KMS cipher carries, taken from the cipher itself so the grants below
// cannot drift from it. A data key wrapped under another context cannot be unwrapped with these grants.
import { PII_ENCRYPTION_CONTEXT } from '../functions/adapters/pii/kms';

/** GenerateDataKey on the first use ever (no wrapped data key in the table yet), Decrypt once per container. */
export const PII_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

export class PiiKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      alias: 'alias/herald/pii',
      description: "Herald: wraps the data key that encrypts residents' and media outlets' addresses",
      enableKeyRotation: true,
      // Losing this key loses every subscriber's address for good (the wrapped data key in the table cannot be
      // opened without it). A stack deletion leaves it; scheduling its deletion is a deliberate act in KMS.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets `fn` unwrap (and, the first time, create) the PII data key. The statement goes on the function's role:
   * the key policy is CDK's default one, which delegates to IAM in this account.
   */
  grantUse(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...PII_KEY_ACTIONS],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: Object.fromEntries(
            Object.entries(PII_ENCRYPTION_CONTEXT).map(([name, value]) => [
              `kms:EncryptionContext:${name}`,
              value,
            ]),
          ),
        },
      }),
    );
  }
}
