/**
 * The webhook provider against real HTTP(S) servers on loopback: what a receiver gets (checked with the
 * `standardwebhooks` reference library), how each answer is classified, and which URLs are refused before any
 * connection is made.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import selfsigned from 'selfsigned';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classifyAddress,
  createNodeTransport,
  createWebhookProvider,
  parseRetryAfter,
  type WebhookProviderOptions,
  type WebhookTransport,
} from '../../functions/channels/webhook/client';
import { type OutboundMessage, ProviderError, type SecretSource } from '../../functions/ports';
import { RecordingLogger } from '../helpers/fakes';

// A self-signed certificate for hooks.herald.test, made when the tests start: no key is kept in the repository.
const { private: TEST_KEY, cert: TEST_CERT } = await selfsigned.generate(
  [{ name: 'commonName', value: 'hooks.herald.test' }],
  {
    keyType: 'ec',
    notAfterDate: new Date(Date.now() + 24 * 60 * 60 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'hooks.herald.test' }] },
    ],
  },
);

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const secrets = (signingSecret = SECRET): SecretSource => ({
  get: async (name) => (name === 'webhook' ? { signingSecret } : undefined),
});
const noSecrets: SecretSource = { get: async () => undefined };

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  servername?: string | false | null | undefined;
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A receiver that records every request and answers with `reply` (200 by default). */
async function receiver(options: { reply?: Reply; host?: string; tls?: boolean } = {}) {
  const received: Received[] = [];
  let reply: Reply = options.reply ?? ((_req, res) => res.writeHead(200).end('ok'));
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const socket = req.socket as Partial<TLSSocket>;
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        servername: socket.servername,
      });
      reply(req, res);
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, handle)
    : createServer(handle);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    received,
    url: `http://127.0.0.1:${port}/hooks/herald`,
    answer(next: Reply) {
      reply = next;
    },
  };
}

const PAYLOAD = {
  type: 'alert.published',
  alertId: '01JAX4Z9M0000000000000000',
  version: 1,
  headline: 'Missing person: Ana, 8, last seen near the harbour — «help»',
};

function message(recipient: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    channel: 'webhook',
    alertId: PAYLOAD.alertId,
    version: 1,
    recipient,
    text: PAYLOAD.headline,
    content: { channel: 'webhook', payload: PAYLOAD },
    idempotencyKey: `${PAYLOAD.alertId}:1:webhook:${recipient}`,
    test: false,
    ...overrides,
  };
}

const never: WebhookTransport = async () => {
  throw new Error('the transport must not be reached for a refused URL');
};

function provider(options: Partial<WebhookProviderOptions> = {}) {
  return createWebhookProvider({ secrets: secrets(), allowLoopback: true, ...options });
}

const signal = () => AbortSignal.timeout(2000);

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

describe('Provider: webhook', () => {
  describe('what a receiver gets', () => {
    it('POSTs the payload as JSON with a Standard Webhooks signature that the reference library verifies', async () => {
      // Prepare
      const hook = await receiver();
      const logger = new RecordingLogger();

      // Act
      const accepted = await provider({ logger }).send(message(hook.url), signal());

      // Assess
      expect(hook.received).toHaveLength(1);
      const [req] = hook.received;
      expect(req?.method).toBe('POST');
      expect(req?.url).toBe('/hooks/herald');
      expect(req?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(req?.body ?? '')).toEqual(PAYLOAD);
      const headers = {
        'webhook-id': String(req?.headers['webhook-id']),
        'webhook-timestamp': String(req?.headers['webhook-timestamp']),
        'webhook-signature': String(req?.headers['webhook-signature']),
      };
      expect(new Webhook(SECRET).verify(req?.body ?? '', headers)).toEqual(PAYLOAD);
      expect(accepted.providerMessageId).toBe(headers['webhook-id']);
      expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      expect(JSON.stringify(logger.lines)).not.toContain(SECRET.slice(6));
    });

    it('fails verification with another secret, so the signature is really keyed', async () => {
      const hook = await receiver();
      await provider().send(message(hook.url), signal());
      const [req] = hook.received;
      const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
      expect(() => other.verify(req?.body ?? '', req?.headers as Record<string, string>)).toThrow();
    });

    it('keeps the webhook-id across retries and re-signs each attempt with its own timestamp', async () => {
      // Prepare: the first attempt meets a 503, the second a 200
      const hook = await receiver({ reply: (_req, res) => res.writeHead(503).end() });
      let clock = Date.now();
      const webhook = provider({ now: () => clock });

      // Act
      const first = await failure(webhook.send(message(hook.url), signal()));
      hook.answer((_req, res) => res.writeHead(204).end());
      clock += 30_000;
      const accepted = await webhook.send(message(hook.url), signal());

      // Assess
      expect(first.kind).toBe('retryable');
      const [a, b] = hook.received;
      expect(a?.headers['webhook-id']).toBe(b?.headers['webhook-id']);
      expect(accepted.providerMessageId).toBe(b?.headers['webhook-id']);
      expect(Number(b?.headers['webhook-timestamp']) - Number(a?.headers['webhook-timestamp'])).toBe(30);
      expect(a?.headers['webhook-signature']).not.toBe(b?.headers['webhook-signature']);
      expect(() =>
        new Webhook(SECRET).verify(b?.body ?? '', b?.headers as Record<string, string>),
      ).not.toThrow();
    });

    it('gives another version or another subscriber another webhook-id, and keeps URL tokens out of it', async () => {
      const hook = await receiver();
      const webhook = provider();
      const url = `${hook.url}?token=s3cr3t-path-token`;
      const one = await webhook.send(message(url), signal());
      const two = await webhook.send(
        message(url, { version: 2, idempotencyKey: `${PAYLOAD.alertId}:2:webhook:${url}` }),
        signal(),
      );
      const other = await webhook.send(message(`${hook.url}/other`), signal());
      expect(new Set([one, two, other].map((a) => a.providerMessageId)).size).toBe(3);
      expect(one.providerMessageId).not.toContain('s3cr3t');
      expect(one.providerMessageId).toMatch(/^msg_[\w-]+$/);
    });

    it("signs with a subscriber's own secret when the seam gives one", async () => {
      const hook = await receiver();
      const own = `whsec_${randomBytes(24).toString('base64')}`;
      await provider({ signingSecret: async () => own }).send(message(hook.url), signal());
      const [req] = hook.received;
      expect(() =>
        new Webhook(own).verify(req?.body ?? '', req?.headers as Record<string, string>),
      ).not.toThrow();
      expect(() =>
        new Webhook(SECRET).verify(req?.body ?? '', req?.headers as Record<string, string>),
      ).toThrow();
    });

    it('refuses to send without a sound signing secret, and never sends a test alert', async () => {
      const hook = await receiver();
      const unsigned = await failure(provider({ secrets: noSecrets }).send(message(hook.url), signal()));
      expect(unsigned.kind).toBe('permanent');
      expect(unsigned.reason).toMatch(/signing secret/);
      const weak = await failure(
        provider({ secrets: secrets('whsec_c2hvcnQ=') }).send(message(hook.url), signal()),
      );
      expect(weak.kind).toBe('permanent');
      expect(weak.reason).toMatch(/24 to 64 bytes/);
      expect(weak.reason).not.toContain('c2hvcnQ');
      const test = await failure(provider().send(message(hook.url, { test: true }), signal()));
      expect(test.kind).toBe('permanent');
      expect(hook.received).toHaveLength(0);
    });
  });

  describe('connecting only to the address checked', () => {
    it('connects to the resolved address with the name in the Host header (no second lookup)', async () => {
      // Prepare: the system resolver says localhost is 127.0.0.1 or ::1; the checked answer says 127.0.0.2,
      // and only 127.0.0.2 has a listener.
      const hook = await receiver({ host: '127.0.0.2' });
      const lookups: string[] = [];
      const webhook = provider({
        resolve: async (host) => {
          lookups.push(host);
          return ['127.0.0.2'];
        },
      });

      // Act
      await webhook.send(message(`http://localhost:${hook.port}/in`), signal());

      // Assess
      expect(lookups).toEqual(['localhost']);
      expect(hook.received[0]?.headers.host).toBe(`localhost:${hook.port}`);
    });

    it('treats LOCALHOST. as localhost where loopback is allowed, and resolves the name without the dot', async () => {
      const hook = await receiver({ host: '127.0.0.2' });
      const lookups: string[] = [];
      const webhook = provider({
        resolve: async (host) => {
          lookups.push(host);
          return ['127.0.0.2'];
        },
      });
      await webhook.send(message(`http://LOCALHOST.:${hook.port}/in`), signal());
      expect(lookups).toEqual(['localhost']);
      expect(hook.received).toHaveLength(1);
    });

    it('tries each checked address in turn, so localhost answering ::1 first still reaches 127.0.0.2', async () => {
      const hook = await receiver({ host: '127.0.0.2' });
      const webhook = provider({ resolve: async () => ['::1', '127.0.0.2'] });
      await webhook.send(message(`http://localhost:${hook.port}/in`), signal());
      expect(hook.received).toHaveLength(1);
    });

    it('over TLS, sends the name as SNI and checks the certificate against it', async () => {
      const hook = await receiver({ tls: true });
      const webhook = provider({
        resolve: async () => ['127.0.0.1'],
        transport: createNodeTransport({ ca: TEST_CERT }),
      });
      await webhook.send(message(`https://hooks.herald.test:${hook.port}/in`), signal());
      expect(hook.received[0]?.servername).toBe('hooks.herald.test');
      expect(hook.received[0]?.headers.host).toBe(`hooks.herald.test:${hook.port}`);
    });

    it('does not connect when the certificate does not name the host', async () => {
      const hook = await receiver({ tls: true });
      const webhook = provider({
        resolve: async () => ['127.0.0.1'],
        transport: createNodeTransport({ ca: TEST_CERT }),
      });
      const error = await failure(
        webhook.send(message(`https://other.herald.test:${hook.port}/in`), signal()),
      );
      expect(error.kind).toBe('retryable');
      expect(hook.received).toHaveLength(0);
    });

    it('does not follow a redirect, not even to a public-looking place', async () => {
      const hook = await receiver({
        reply: (_req, res) =>
          res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      });
      const error = await failure(provider().send(message(hook.url), signal()));
      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/redirects are not followed/);
      expect(hook.received).toHaveLength(1);
    });
  });

  describe('refusing URLs that reach inside (SSRF)', () => {
    const cases: [label: string, url: string, resolved: string[], cls: RegExp][] = [
      ['10/8', 'https://10.1.2.3/hook', [], /private/],
      ['172.16/12', 'https://172.20.0.9/hook', [], /private/],
      ['192.168/16', 'https://192.168.1.20/hook', [], /private/],
      ['fc00::/7', 'https://[fd12:3456::1]/hook', [], /private/],
      ['loopback', 'https://127.0.0.1/hook', [], /loopback/],
      ['IPv6 loopback', 'https://[::1]/hook', [], /loopback/],
      ['the metadata address', 'https://169.254.169.254/latest/meta-data/', [], /link-local/],
      ['link-local IPv6', 'https://[fe80::1]/hook', [], /link-local/],
      ['0.0.0.0', 'https://0.0.0.0/hook', [], /unspecified/],
      ['multicast', 'https://224.0.0.251/hook', [], /multicast/],
      ['IPv6 multicast', 'https://[ff02::1]/hook', [], /multicast/],
      ['IPv4-mapped metadata', 'https://[::ffff:169.254.169.254]/hook', [], /link-local/],
      ['IPv4-mapped private', 'https://[::ffff:10.0.0.1]/hook', [], /private/],
      ['a decimal-encoded loopback', 'https://2130706433/hook', [], /loopback/],
      ['a name resolving to a private address', 'https://hooks.example.org/x', ['10.0.0.7'], /private/],
      [
        'a name resolving to the metadata address',
        'https://meta.example.org/x',
        ['169.254.169.254'],
        /link-local/,
      ],
      [
        'a name with one private answer among public ones',
        'https://mixed.example.org/x',
        ['93.184.215.14', '192.168.0.3'],
        /private/,
      ],
      [
        'a name resolving to IPv4-mapped loopback',
        'https://v6.example.org/x',
        ['::ffff:127.0.0.1'],
        /loopback/,
      ],
      // Spellings of the same hosts: each is the host it names, whatever the resolver answers for it.
      ['localhost with a trailing dot', 'https://localhost./hook', [], /loopback/],
      ['LOCALHOST in capitals, with a trailing dot', 'https://LOCALHOST.:8443/hook', [], /loopback/],
      ['a full-width (IDN) localhost', 'https://ｌｏｃａｌｈｏｓｔ/hook', [], /loopback/],
      ['a name under .localhost', 'https://hooks.localhost/x', [], /loopback/],
      ['loopback with a trailing dot', 'https://127.0.0.1./hook', [], /loopback/],
      ['the metadata address with a trailing dot', 'https://169.254.169.254./latest/', [], /link-local/],
      ['the IPv6 metadata address', 'https://[fd00:ec2::254]/latest/', [], /private/],
      [
        'a name with a trailing dot resolving to the metadata address',
        'https://META.example.org./x',
        ['169.254.169.254'],
        /link-local/,
      ],
    ];

    it.each(cases)('refuses %s', async (_label, url, resolved, cls) => {
      const webhook = createWebhookProvider({
        secrets: secrets(),
        allowLoopback: false,
        resolve: async () => resolved,
        transport: never,
      });
      const error = await failure(webhook.send(message(url), signal()));
      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(cls);
    });

    it.each([
      ['http on a public host', 'http://hooks.example.org/x', ['93.184.215.14'], true],
      ['http on loopback when loopback is not allowed', 'http://127.0.0.1:8080/x', [], false],
      ['http on a name resolving to loopback', 'http://hooks.example.org/x', ['127.0.0.1'], true],
      ['another scheme', 'ftp://hooks.example.org/x', ['93.184.215.14'], true],
    ])('refuses %s', async (_label, url, resolved, allowLoopback) => {
      const webhook = createWebhookProvider({
        secrets: secrets(),
        allowLoopback,
        resolve: async () => resolved,
        transport: never,
      });
      const error = await failure(webhook.send(message(url), signal()));
      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/must use https/);
    });

    it('says why, without the path of the URL (it may hold a token)', async () => {
      const webhook = createWebhookProvider({ secrets: secrets(), allowLoopback: false, transport: never });
      const error = await failure(webhook.send(message('https://10.0.0.1/T0KEN-in-path?k=T0KEN'), signal()));
      expect(error.reason).toContain('https://10.0.0.1');
      expect(error.reason).not.toContain('T0KEN');
    });

    it('sends to a public address through the transport, pinned to it', async () => {
      const requests: { addresses: unknown; host: string }[] = [];
      const webhook = createWebhookProvider({
        secrets: secrets(),
        allowLoopback: false,
        resolve: async () => ['2606:4700:4700::1111', '1.1.1.1'],
        transport: async (req) => {
          requests.push({ addresses: req.addresses, host: req.url.hostname });
          return { status: 200, headers: {} };
        },
      });
      await webhook.send(message('https://hooks.example.org/x'), signal());
      expect(requests).toEqual([
        {
          addresses: [
            { address: '2606:4700:4700::1111', family: 6 },
            { address: '1.1.1.1', family: 4 },
          ],
          host: 'hooks.example.org',
        },
      ]);
    });

    it('classifies the address families it checks', () => {
      expect(classifyAddress('8.8.8.8')).toBe('public');
      expect(classifyAddress('172.32.0.1')).toBe('public');
      expect(classifyAddress('172.31.255.255')).toBe('private');
      expect(classifyAddress('100.100.100.200')).toBe('private');
      expect(classifyAddress('::ffff:8.8.8.8')).toBe('public');
      expect(classifyAddress('::ffff:a9fe:a9fe')).toBe('link-local');
      expect(classifyAddress('64:ff9b::a00:1')).toBe('private');
      expect(classifyAddress('2002:c0a8:0101::1')).toBe('private');
      expect(classifyAddress('fd00:ec2::254')).toBe('private');
      expect(classifyAddress('::')).toBe('unspecified');
      expect(classifyAddress('not-an-ip')).toBe('reserved');
    });
  });

  describe('what each answer means', () => {
    it.each([200, 201, 202, 204])('%i: sent', async (status) => {
      const hook = await receiver({ reply: (_req, res) => res.writeHead(status).end() });
      const accepted = await provider().send(message(hook.url), signal());
      expect(accepted.providerMessageId).toBe(hook.received[0]?.headers['webhook-id']);
    });

    it.each([
      [410, 'permanent', /endpoint gone/],
      [400, 'permanent', /HTTP 400/],
      [401, 'permanent', /HTTP 401/],
      [404, 'permanent', /HTTP 404/],
      [500, 'retryable', /HTTP 500/],
      [502, 'retryable', /HTTP 502/],
      [503, 'retryable', /HTTP 503/],
      [408, 'retryable', /HTTP 408/],
    ] as const)('%i: %s', async (status, kind, reason) => {
      const hook = await receiver({ reply: (_req, res) => res.writeHead(status).end() });
      const error = await failure(provider().send(message(hook.url), signal()));
      expect(error.kind).toBe(kind);
      expect(error.reason).toMatch(reason);
    });

    it('429: retryable no sooner than Retry-After', async () => {
      const hook = await receiver({ reply: (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end() });
      const error = await failure(provider().send(message(hook.url), signal()));
      expect(error.kind).toBe('retryable');
      expect(error.retryAfterMs).toBe(7000);
    });

    it('503 with an HTTP-date Retry-After', () => {
      const now = Date.parse('2030-01-01T00:00:00Z');
      expect(parseRetryAfter('Tue, 01 Jan 2030 00:02:00 GMT', now)).toBe(120_000);
      expect(parseRetryAfter('soon', now)).toBeUndefined();
    });

    it('a refused connection: retryable (nothing was sent)', async () => {
      const hook = await receiver();
      const server = servers.pop()!;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const error = await failure(provider().send(message(hook.url), signal()));
      expect(error.kind).toBe('retryable');
      expect(error.reason).toMatch(/could not connect/);
    });

    it('no answer after the request went out: unknown outcome', async () => {
      const hook = await receiver({ reply: () => undefined });
      const error = await failure(provider().send(message(hook.url), AbortSignal.timeout(150)));
      expect(hook.received).toHaveLength(1);
      expect(error.kind).toBe('unknown-outcome');
    });

    it('a name that does not exist: permanent; a resolver failure: retryable', async () => {
      const fail = (code: string) => async () => {
        throw Object.assign(new Error(`getaddrinfo ${code}`), { code });
      };
      const gone = await failure(
        provider({ resolve: fail('ENOTFOUND'), transport: never }).send(
          message('https://nx.example.org/'),
          signal(),
        ),
      );
      expect(gone.kind).toBe('permanent');
      const flaky = await failure(
        provider({ resolve: fail('EAI_AGAIN'), transport: never }).send(
          message('https://nx.example.org/'),
          signal(),
        ),
      );
      expect(flaky.kind).toBe('retryable');
    });
  });
});
