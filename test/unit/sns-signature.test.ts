import { describe, expect, it } from 'vitest';
import type { PinnedRequest, PinnedTransport } from '../../functions/adapters/net/guarded-fetch';
import {
  createSnsVerifier,
  fetchSnsCertificate,
  getFromSns,
  isSnsUrl,
  stringToSign,
} from '../../functions/api/sns-signature';
import type { SnsEnvelope } from '../../schemas/subscriptions';
import { CERT_URL, snsSigner, TOPIC_ARN } from '../helpers/sns';

const signer = await snsSigner();

const notification = (changes: Partial<SnsEnvelope> = {}) =>
  signer.sign({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: TOPIC_ARN,
    Subject: 'inbound',
    Message: '{"originationNumber":"+34611000000","messageBody":"JOIN gracia"}',
    Timestamp: '2030-03-04T10:00:00.000Z',
    ...changes,
  });

describe('stringToSign', () => {
  it('writes each signed field of a notification as name and value lines, Subject included when present', () => {
    // Prepare
    const message = notification();

    // Act
    const text = stringToSign(message);

    // Assess
    expect(text).toBe(
      [
        'Message',
        message.Message,
        'MessageId',
        message.MessageId,
        'Subject',
        'inbound',
        'Timestamp',
        message.Timestamp,
        'TopicArn',
        TOPIC_ARN,
        'Type',
        'Notification',
        '',
      ].join('\n'),
    );
  });

  it('signs SubscribeURL and Token for a subscription confirmation, and not Subject', () => {
    // Prepare
    const message = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'm',
      TopicArn: TOPIC_ARN,
      Subject: 'ignored',
      Message: 'confirm',
      SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription',
      Token: 't0k3n',
      Timestamp: '2030-03-04T10:00:00.000Z',
    });

    // Act
    const text = stringToSign(message);

    // Assess
    expect(text).toBe(
      'Message\nconfirm\nMessageId\nm\nSubscribeURL\nhttps://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription\n' +
        `Timestamp\n2030-03-04T10:00:00.000Z\nToken\nt0k3n\nTopicArn\n${TOPIC_ARN}\nType\nSubscriptionConfirmation\n`,
    );
  });
});

describe('createSnsVerifier', () => {
  it.each(['1', '2'] as const)('accepts a message signed with SignatureVersion %s', async (version) => {
    // Prepare
    const verifier = createSnsVerifier({ fetch: signer.fetchCertificate });
    const message = signer.sign(notification(), { version });

    // Act
    const verdict = await verifier.verify(message);

    // Assess
    expect(verdict).toEqual({ ok: true });
  });

  it('refuses a message changed after signing', async () => {
    // Prepare
    const verifier = createSnsVerifier({ fetch: signer.fetchCertificate });
    const message = {
      ...notification(),
      Message: '{"originationNumber":"+34611000000","messageBody":"STOP"}',
    };

    // Act
    const verdict = await verifier.verify(message);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'the signature does not match' });
  });

  it('refuses a message whose claimed signature version does not match how it was signed', async () => {
    // Prepare
    const verifier = createSnsVerifier({ fetch: signer.fetchCertificate });
    const message = { ...notification(), SignatureVersion: '1' as const };

    // Act
    const verdict = await verifier.verify(message);

    // Assess
    expect(verdict.ok).toBe(false);
  });

  it('refuses a message signed with another key', async () => {
    // Prepare
    const stranger = await snsSigner();
    const verifier = createSnsVerifier({ fetch: signer.fetchCertificate });
    const message = stranger.sign(notification());

    // Act
    const verdict = await verifier.verify(message);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'the signature does not match' });
  });

  it('fetches the certificate once and keeps it for later messages', async () => {
    // Prepare
    const fetched: string[] = [];
    const verifier = createSnsVerifier({
      fetch: async (url) => {
        fetched.push(url);
        return signer.certificate;
      },
    });

    // Act
    const verdicts = await Promise.all([verifier.verify(notification()), verifier.verify(notification())]);

    // Assess
    expect(verdicts).toEqual([{ ok: true }, { ok: true }]);
    expect(fetched).toEqual([CERT_URL]);
  });

  it('does not keep a failed fetch: the next message tries again', async () => {
    // Prepare
    let calls = 0;
    const verifier = createSnsVerifier({
      fetch: async () => {
        calls += 1;
        if (calls === 1) throw new Error('socket hang up');
        return signer.certificate;
      },
    });

    // Act
    const first = await verifier.verify(notification());
    const second = await verifier.verify(notification());

    // Assess
    expect(first).toEqual({ ok: false, reason: 'the signing certificate could not be read: socket hang up' });
    expect(second).toEqual({ ok: true });
  });

  it('refuses a certificate URL outside SNS without fetching it', async () => {
    // Prepare
    let fetched = false;
    const verifier = createSnsVerifier({
      fetch: async () => {
        fetched = true;
        return signer.certificate;
      },
    });
    const message = signer.sign(notification(), {
      certUrl: 'https://sns.eu-west-1.amazonaws.com.attacker.example/cert.pem',
    });

    // Act
    const verdict = await verifier.verify(message);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'the signing certificate is not on an SNS endpoint' });
    expect(fetched).toBe(false);
  });
});

describe('fetchSnsCertificate: the default fetcher, within the guard', () => {
  /** A transport standing in for SNS: records what it was asked and answers with `answer`. */
  function sns(answer: { status: number; headers?: Record<string, string>; body?: string }) {
    const requests: PinnedRequest[] = [];
    const transport: PinnedTransport = async (req) => {
      requests.push(req);
      return { status: answer.status, headers: answer.headers ?? {}, body: Buffer.from(answer.body ?? '') };
    };
    return { requests, transport };
  }

  it("GETs the certificate from the public address SNS's name resolved to, and nowhere else", async () => {
    // Prepare
    const fake = sns({ status: 200, body: signer.certificate });
    const lookups: string[] = [];
    const resolve = async (host: string) => {
      lookups.push(host);
      return ['54.239.31.1'];
    };

    // Act
    const pem = await fetchSnsCertificate(CERT_URL, { resolve, transport: fake.transport });

    // Assess
    expect(pem).toBe(signer.certificate);
    expect(lookups).toEqual(['sns.eu-west-1.amazonaws.com']);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      addresses: [{ address: '54.239.31.1', family: 4 }],
    });
    expect(fake.requests[0]?.url.href).toBe(CERT_URL);
  });

  it.each([
    ['loopback', ['127.0.0.1'], /127\.0\.0\.1 is a loopback address/],
    ['the metadata address', ['169.254.169.254'], /link-local/],
    ['a private address', ['10.1.2.3'], /private/],
    ['the IPv6 metadata address', ['fd00:ec2::254'], /private/],
    ['a public and a private answer', ['54.239.31.1', '192.168.1.1'], /private/],
  ])("refuses SNS's name resolving to %s, without connecting", async (_label, addresses, why) => {
    const fake = sns({ status: 200, body: signer.certificate });

    const error = await fetchSnsCertificate(CERT_URL, {
      resolve: async () => addresses,
      transport: fake.transport,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    expect(error?.message).toMatch(why);
    expect(fake.requests).toEqual([]);
  });

  it.each([
    'https://169.254.169.254/latest/x.pem',
    'https://sns.eu-west-1.amazonaws.com./x.pem',
    'https://SNS.eu-west-1.amazonaws.com.attacker.example/x.pem',
    'http://sns.eu-west-1.amazonaws.com/x.pem',
  ])('refuses %s without resolving it', async (url) => {
    let resolved = false;
    const fake = sns({ status: 200, body: signer.certificate });
    const resolve = async () => {
      resolved = true;
      return ['54.239.31.1'];
    };

    await expect(fetchSnsCertificate(url, { resolve, transport: fake.transport })).rejects.toThrow(
      /not on an SNS endpoint/,
    );
    expect(resolved).toBe(false);
    expect(fake.requests).toEqual([]);
  });

  it('does not follow a redirect', async () => {
    const fake = sns({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
    await expect(
      fetchSnsCertificate(CERT_URL, { resolve: async () => ['54.239.31.1'], transport: fake.transport }),
    ).rejects.toThrow(/SNS answered 302/);
    expect(fake.requests).toHaveLength(1);
  });

  it('GETs a SubscribeURL only on an SNS endpoint', async () => {
    const fake = sns({ status: 200, body: '<ConfirmSubscriptionResponse/>' });
    const options = { resolve: async () => ['54.239.31.1'], transport: fake.transport };
    await expect(getFromSns('https://evil.example/?Action=ConfirmSubscription', options)).rejects.toThrow(
      /not on an SNS endpoint/,
    );
    const body = await getFromSns('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription', options);
    expect(body.toString()).toBe('<ConfirmSubscriptionResponse/>');
  });
});

describe('isSnsUrl', () => {
  it.each([
    ['https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem', true],
    ['https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem', true],
    ['http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem', false],
    ['https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-abc.pem', false],
    ['https://sns.eu-west-1.amazonaws.com.evil.example/x.pem', false],
    ['https://evil.example/sns.eu-west-1.amazonaws.com/x.pem', false],
    ['https://s3.amazonaws.com/x.pem', false],
    ['https://sns.eu-west-1.amazonaws.com/x.txt', false],
  ])('%s → %s', (url, expected) => {
    // Act
    const result = isSnsUrl(url, { pem: true });

    // Assess
    expect(result).toBe(expected);
  });
});
