/**
 * A local stand-in for the three services a neighbourhood fan-out calls, on one HTTP server, speaking each one's
 * wire format so the real clients run unchanged against it (the AWS SDK is pointed here by AWS_ENDPOINT_URL_SNS and
 * AWS_ENDPOINT_URL_SESV2):
 * - SNS, AWS Query protocol: `CheckIfPhoneNumberIsOptedOut` and `Publish` (form-encoded in, XML out);
 * - SES v2, REST-JSON: `POST /v2/email/outbound-emails` (SendEmail with a raw MIME message);
 * - media webhooks: any other POST, the path naming the outlet, counted by `webhook-id`.
 * It counts every message accepted per recipient, so a crash test can tell who got one twice, and can be told to
 * answer slowly, so a kill lands in the middle of a fan-out.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Accepted {
  channel: 'sms' | 'email' | 'webhook';
  /** The phone number, the email address, or the webhook's path. */
  recipient: string;
  /** For webhooks: the `webhook-id` header, the same on every resend of one delivery. */
  messageId?: string;
  /** For email: the raw MIME message, so a test can read its threading headers. */
  raw?: string;
  at: number;
}

export interface FakeMessaging {
  url: string;
  accepted: Accepted[];
  /** How many messages each recipient got, per channel. */
  countsOf(channel: Accepted['channel']): Map<string, number>;
  /** Milliseconds each answer waits: a route's latency. */
  latencyMs: number;
  close(): Promise<void>;
}

const read = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const xml = (action: string, result: string) =>
  `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;

export async function startFakeMessaging(options: { latencyMs?: number } = {}): Promise<FakeMessaging> {
  const accepted: Accepted[] = [];
  const fake: FakeMessaging = {
    url: '',
    accepted,
    latencyMs: options.latencyMs ?? 0,
    countsOf(channel) {
      const counts = new Map<string, number>();
      for (const a of accepted)
        if (a.channel === channel) counts.set(a.recipient, (counts.get(a.recipient) ?? 0) + 1);
      return counts;
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
      const type = req.headers['content-type'] ?? '';
      if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) {
        const form = new URLSearchParams(body.toString('utf8'));
        const action = form.get('Action');
        res.setHeader('content-type', 'text/xml');
        if (action === 'CheckIfPhoneNumberIsOptedOut') {
          res.end(xml(action, '<isOptedOut>false</isOptedOut>'));
          return;
        }
        if (action === 'Publish') {
          accepted.push({ channel: 'sms', recipient: form.get('PhoneNumber') ?? '', at: Date.now() });
          res.end(xml(action, `<MessageId>${randomUUID()}</MessageId>`));
          return;
        }
        res.statusCode = 400;
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${action}</Message></Error></ErrorResponse>`,
        );
        return;
      }
      if (req.method === 'POST' && req.url === '/v2/email/outbound-emails') {
        const request = JSON.parse(body.toString('utf8')) as {
          Destination?: { ToAddresses?: string[] };
          Content?: { Raw?: { Data?: string } };
        };
        const raw = request.Content?.Raw?.Data;
        accepted.push({
          channel: 'email',
          recipient: request.Destination?.ToAddresses?.[0] ?? '',
          ...(raw ? { raw: Buffer.from(raw, 'base64').toString('utf8') } : {}),
          at: Date.now(),
        });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ MessageId: `ses-${randomUUID()}` }));
        return;
      }
      if (req.method === 'POST') {
        const id = req.headers['webhook-id'];
        accepted.push({
          channel: 'webhook',
          recipient: req.url ?? '/',
          ...(typeof id === 'string' ? { messageId: id } : {}),
          at: Date.now(),
        });
        res.statusCode = 204;
        res.end();
        return;
      }
      res.statusCode = 404;
      res.end();
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return fake;
}

/**
 * The environment that makes the embedded mode use the real SNS, SES and webhook clients against `fake`: AWS
 * credentials that sign but open nothing, each service's endpoint, and loopback allowed for the webhooks.
 */
export function realMessagingEnv(fake: FakeMessaging): Record<string, string> {
  const aws = { region: 'eu-west-1', accessKeyId: 'AKIDLOCALFAKE', secretAccessKey: 'local-fake-secret' };
  return {
    AWS_ENDPOINT_URL_SNS: fake.url,
    AWS_ENDPOINT_URL_SESV2: fake.url,
    HERALD_SECRET_SMS: JSON.stringify(aws),
    HERALD_SECRET_EMAIL: JSON.stringify({
      ...aws,
      from: 'alerts@police.example',
      configurationSet: 'herald',
    }),
    HERALD_FETCH_ALLOW_LOOPBACK: 'true',
  };
}
