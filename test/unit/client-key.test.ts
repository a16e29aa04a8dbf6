/**
 * Who a resident's request counts against for the sign-up and tip limits (`clientKey`): API Gateway's sourceIp, unless
 * the request came through CloudFront, which is known by the edge secret it carries; then the viewer address the site's
 * edge function passes. A direct caller of the execute-api URL cannot pick the address it is counted as. And the api's
 * reading of that secret (`edgeSecretFrom`): from Secrets Manager by ARN, shared by the requests of one container.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { edgeSecretFrom } from '../../functions/api/handler';
import {
  clientAddress,
  clientKey,
  EDGE_SECRET_HEADER,
  rateLimitAddress,
  VIEWER_IP_HEADER,
} from '../../functions/api/residents';
import type { PiiCipher } from '../../functions/ports';

const SECRET = 'k3Q9vYp2mX7rT1wZ8sL4nB6cH0jF5dGaE2uR9iO3pK7yV1tM4xN8qW6zS0lC5bA';
const EDGE_IP = '130.176.98.1';
const VIEWER = '203.0.113.7';

/** A keyed hash stand-in: the key is visible, so the tests can read which address was counted. */
const pii: PiiCipher = {
  hash: async (value) => `hash(${value})`,
  encrypt: async () => {
    throw new Error('not used');
  },
  decrypt: async () => {
    throw new Error('not used');
  },
};

function event(headers: Record<string, string>, sourceIp = EDGE_IP): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /subscribe',
    rawPath: '/subscribe',
    rawQueryString: 'lang=es',
    headers,
    requestContext: { http: { method: 'POST', path: '/subscribe', sourceIp } },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/** The edge secret as the api has it, counting its reads. */
function edgeSecret(value = SECRET) {
  return vi.fn(async () => value);
}

describe('Function: clientKey', () => {
  it('counts a request through CloudFront as the viewer address, when the edge secret matches', async () => {
    // Arrange
    const secret = edgeSecret();
    const request = event({ [VIEWER_IP_HEADER]: VIEWER, [EDGE_SECRET_HEADER]: SECRET });

    // Act
    const key = await clientKey({ pii, edgeSecret: secret }, request);

    // Assert
    expect(key).toBe(`hash(client:${VIEWER})`);
    expect(secret).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a wrong edge secret', { [EDGE_SECRET_HEADER]: `${SECRET.slice(0, -1)}x` }],
    ['a shorter edge secret', { [EDGE_SECRET_HEADER]: SECRET.slice(0, 10) }],
    ['an empty edge secret', { [EDGE_SECRET_HEADER]: '' }],
    ['no edge secret', {}],
  ])(
    'ignores the viewer address a direct caller sends with %s, and counts its own address',
    async (_, extra) => {
      // Arrange
      const request = event({ [VIEWER_IP_HEADER]: VIEWER, ...extra }, '198.51.100.23');

      // Act
      const key = await clientKey({ pii, edgeSecret: edgeSecret() }, request);

      // Assert
      expect(key).toBe('hash(client:198.51.100.23)');
    },
  );

  it('does not read the secret for a request that names no viewer address', async () => {
    // Arrange
    const secret = edgeSecret();

    // Act
    const key = await clientKey({ pii, edgeSecret: secret }, event({ [EDGE_SECRET_HEADER]: SECRET }));

    // Assert
    expect(key).toBe(`hash(client:${EDGE_IP})`);
    expect(secret).not.toHaveBeenCalled();
  });

  it('never believes the header where no CDN stands in front (the embedded mode has no edge secret)', async () => {
    // Arrange
    const request = event({ [VIEWER_IP_HEADER]: VIEWER, [EDGE_SECRET_HEADER]: SECRET }, '127.0.0.1');

    // Act
    const key = await clientKey({ pii }, request);

    // Assert
    expect(key).toBe('hash(client:127.0.0.1)');
  });

  it.each(['not-an-address', '203.0.113.7, 198.51.100.1', '999.1.1.1'])(
    'keeps the source address when the vouched viewer address %j is not one address',
    async (viewer) => {
      const request = event({ [VIEWER_IP_HEADER]: viewer, [EDGE_SECRET_HEADER]: SECRET });
      expect(await clientAddress({ edgeSecret: edgeSecret() }, request)).toBe(EDGE_IP);
    },
  );

  it('reads the headers whatever their case', async () => {
    const request = event({ 'X-Herald-Viewer-IP': VIEWER, 'X-Herald-Edge-Secret': SECRET });
    expect(await clientAddress({ edgeSecret: edgeSecret() }, request)).toBe(VIEWER);
  });

  it('fails the request when the secret cannot be read, rather than count everyone as the edge', async () => {
    // Arrange
    const request = event({ [VIEWER_IP_HEADER]: VIEWER, [EDGE_SECRET_HEADER]: SECRET });
    const unreadable = async () => {
      throw new Error('throttled');
    };

    // Act
    const key = clientKey({ pii, edgeSecret: unreadable }, request);

    // Assert
    await expect(key).rejects.toThrow('throttled');
  });

  it('counts the addresses of one IPv6 /64 as one client', async () => {
    // Arrange
    const through = (viewer: string) =>
      clientKey(
        { pii, edgeSecret: edgeSecret() },
        event({ [VIEWER_IP_HEADER]: viewer, [EDGE_SECRET_HEADER]: SECRET }),
      );

    // Act
    const [a, b, other] = await Promise.all([
      through('2001:db8:85a3:8d3:1319:8a2e:370:7348'),
      through('2001:db8:85a3:8d3::1'),
      through('2001:db8:85a3:8d4::1'),
    ]);

    // Assert
    expect(a).toBe('hash(client:2001:db8:85a3:8d3::/64)');
    expect(b).toBe(a);
    expect(other).not.toBe(a);
  });
});

describe('Function: rateLimitAddress', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['2001:DB8:0:0:FFFF::', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
  ])('counts %s as %s', (address, expected) => {
    expect(rateLimitAddress(address)).toBe(expected);
  });
});

describe('Function: edgeSecretFrom', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => {
    sm.reset();
  });
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:PublicReadsEdgeSecret-AbCdEf';

  it('is absent where the stack names no secret (no CloudFront in front)', () => {
    expect(edgeSecretFrom(undefined)).toBeUndefined();
    expect(edgeSecretFrom('')).toBeUndefined();
  });

  it('reads the value by the secret’s ARN once for the requests of one container', async () => {
    // Arrange
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ value: SECRET }) });
    const read = edgeSecretFrom(ARN)!;

    // Act
    const values = await Promise.all([read(), read(), read()]);

    // Assert
    expect(values).toEqual([SECRET, SECRET, SECRET]);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: ARN }]);
  });

  it('refuses a secret without its value, naming the secret and not a value', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ other: 'x' }) });
    await expect(edgeSecretFrom(ARN)!()).rejects.toThrow(`the edge secret ${ARN} holds no "value"`);
  });
});
