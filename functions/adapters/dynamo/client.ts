/** The one way Herald builds its DynamoDB client, on AWS and against dynalite. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DocumentClientOptions {
  /** Set for dynalite or another local endpoint; left out on AWS. */
  endpoint?: string | undefined;
  region?: string | undefined;
  maxAttempts?: number | undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLocal(endpoint: string): boolean {
  try {
    return LOCAL_HOSTS.has(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/**
 * What a local server is shown instead of a SigV4 signature: the header's shape (dynalite checks that much),
 * none of the hashing.
 */
function unsigned<R extends { headers: Record<string, string> }>(request: R): R {
  request.headers.authorization =
    'AWS4-HMAC-SHA256 Credential=local/20000101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned';
  request.headers['x-amz-date'] = '20000101T000000Z';
  return request;
}

export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const local = options.endpoint !== undefined && isLocal(options.endpoint);
  const client = new DynamoDBClient({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    // A local server checks no signature, and the embedded mode must not go looking for AWS credentials. Signing
    // (hashing every body, an HMAC chain per request) is skipped too: it is a tenth of the embedded mode's CPU.
    ...(local
      ? {
          region: options.region ?? 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          signer: {
            sign: async <R extends { headers: Record<string, string> }>(request: R) => unsigned(request),
          },
        }
      : options.region !== undefined
        ? { region: options.region }
        : {}),
  });
  // Optional domain fields are often present but undefined; DynamoDB rejects undefined, absence is what is meant.
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
