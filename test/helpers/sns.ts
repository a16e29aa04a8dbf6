/**
 * Amazon SNS HTTP(S) messages as SNS signs them, with a key and certificate made when the tests start (no key in
 * the repository), and a certificate fetcher that serves that certificate at the SNS URL the messages name.
 */
import { createSign, randomUUID } from 'node:crypto';
import selfsigned from 'selfsigned';
import { stringToSign } from '../../functions/api/sns-signature';
import type { SnsEnvelope } from '../../schemas/subscriptions';

export const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:herald-inbound-sms';
export const CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';

export interface SnsSigner {
  certificate: string;
  /** Serves the certificate at CERT_URL, counting fetches; any other URL fails. */
  fetchCertificate: (url: string) => Promise<string>;
  fetches: string[];
  sign(
    envelope: Omit<SnsEnvelope, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
    options?: {
      version?: '1' | '2';
      certUrl?: string;
    },
  ): SnsEnvelope;
  /** A Notification carrying an End User Messaging two-way SMS payload. */
  inboundSms(from: string, body: string, options?: { version?: '1' | '2'; topicArn?: string }): SnsEnvelope;
}

export async function snsSigner(): Promise<SnsSigner> {
  const { private: key, cert } = await selfsigned.generate(
    [{ name: 'commonName', value: 'sns.amazonaws.com' }],
    { keyType: 'rsa', keySize: 2048, algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000) },
  );
  const fetches: string[] = [];
  const signer: SnsSigner = {
    certificate: cert,
    fetches,
    fetchCertificate: async (url) => {
      fetches.push(url);
      if (url !== CERT_URL) throw new Error(`404 for ${url}`);
      return cert;
    },
    sign(envelope, options = {}) {
      const version = options.version ?? '2';
      const unsigned = {
        ...envelope,
        SignatureVersion: version,
        SigningCertURL: options.certUrl ?? CERT_URL,
        Signature: '',
      } as SnsEnvelope;
      const signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
        .update(stringToSign(unsigned), 'utf8')
        .sign(key, 'base64');
      return { ...unsigned, Signature: signature };
    },
    inboundSms(from, body, options = {}) {
      return signer.sign(
        {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: options.topicArn ?? TOPIC_ARN,
          Message: JSON.stringify({
            originationNumber: from,
            destinationNumber: '+34900000000',
            messageKeyword: 'KEYWORD_123456789012',
            messageBody: body,
            inboundMessageId: randomUUID(),
          }),
          Timestamp: new Date().toISOString(),
        },
        { version: options.version ?? '2' },
      );
    },
  };
  return signer;
}
