/**
 * The channel credentials' store on AWS, for the entries of channels whose credentials are a secret
 * (`credentials: 'secret'` in their definition): cached per container, re-read after a 401 by the providers.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSource } from '../adapters/secrets/secrets-manager';
import type { SecretSource } from '../ports';
import { requiredEnv } from '../shared/aws-env';
import { ENV } from '../shared/config';

let secrets: SecretsManagerSource | undefined;

export function channelSecrets(): SecretSource {
  secrets ??= new SecretsManagerSource({
    client: new SecretsManagerClient({}),
    prefix: requiredEnv(ENV.secretsPrefix),
  });
  return secrets;
}
