/**
 * The X provider's image fetch goes through the guarded fetcher: an alert's image URL is chosen by an officer or
 * an imported CAP <resource><uri>, so it must not make Herald fetch this machine, the network inside, or cloud
 * metadata (and then post what it got to the agency's public account). Listeners on 127.0.0.1 stand for those
 * places and must receive nothing; the X API itself is a local fake (a fixed host, not guarded).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import selfsigned from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPinnedTransport, type PinnedTransport } from '../../functions/adapters/net/guarded-fetch';
import { createXProvider, type XProviderOptions } from '../../functions/channels/x/client';
import { type OutboundMessage, ProviderError, type SecretSource } from '../../functions/ports';
import { XApiFake, type XFakeCredentials } from '../fakes/x-api';

const CREDENTIALS: XFakeCredentials = {
  appKey: 'app-key-image-0001',
  appSecret: 'app-secret-image-0001',
  accessToken: '2000-access-token-image',
  accessSecret: 'access-secret-image-0001',
};
const secrets: SecretSource = { get: async () => ({ ...CREDENTIALS }) };

// One self-signed certificate for the test hosts, made when the tests start: no key is kept in the repository.
const HOSTS = ['cdn.herald.test', 'cdn2.herald.test', 'localhost'];
const { private: KEY, cert: CERT } = await selfsigned.generate([{ name: 'commonName', value: HOSTS[0]! }], {
  keyType: 'ec',
  notAfterDate: new Date(Date.now() + 24 * 60 * 60 * 1000),
  extensions: [
    { name: 'basicConstraints', cA: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...HOSTS.map((value) => ({ type: 2 as const, value })),
        { type: 7 as const, ip: '127.0.0.1' },
      ],
    },
  ],
});

/**
 * A public address the test resolver gives the `*.herald.test` names, and the transport then reaches on
 * 127.0.0.1: the guard sees a public host, the test needs no internet. Only this one address is rewritten.
 */
const PUBLIC_STANDIN = '93.184.215.14';
const resolve = async (host: string) => (host.endsWith('herald.test') ? [PUBLIC_STANDIN] : ['127.0.0.1']);
const standIn = (inner = createPinnedTransport({ ca: CERT })): PinnedTransport => {
  return (req, signal) =>
    inner(
      {
        ...req,
        addresses: req.addresses.map((a) =>
          a.address === PUBLIC_STANDIN ? { address: '127.0.0.1', family: 4 as const } : a,
        ),
      },
      signal,
    );
};

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

type Reply = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

/** A server on 127.0.0.1 that records what reaches it and serves a PNG unless told otherwise. */
async function listener(options: { tls?: boolean; reply?: Reply } = {}) {
  const received: string[] = [];
  const reply: Reply =
    options.reply ?? ((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    received.push(`${req.method} ${req.url}`);
    reply(req, res);
  };
  const server = options.tls ? createHttpsServer({ key: KEY, cert: CERT }, handle) : createServer(handle);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { port, received };
}

const redirectTo =
  (location: string): Reply =>
  (_req, res) =>
    res.writeHead(302, { location }).end();

let fake: XApiFake;
beforeAll(async () => {
  fake = await XApiFake.start(CREDENTIALS);
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  fake.requests.length = 0;
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((done) => {
          s.closeAllConnections();
          s.close(() => done());
        }),
    ),
  );
});

let sequence = 0;
function message(url: string): OutboundMessage {
  sequence += 1;
  const text = `Flood warning for the valley, notice ${sequence}`;
  return {
    channel: 'x',
    alertId: `01IMAGE${sequence}`,
    version: 1,
    recipient: '@agency',
    text,
    content: { channel: 'x', text, image: { url, alt: 'alert card' } },
    idempotencyKey: `01IMAGE${sequence}:1:x:@agency`,
    test: false,
  };
}

/** Loopback not allowed, as on AWS; the test resolver and the public stand-in transport. */
function provider(options: Partial<XProviderOptions> = {}) {
  return createXProvider({
    secrets,
    baseUrl: fake.baseUrl,
    imageFetch: { resolve, transport: standIn() },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const signal = () => AbortSignal.timeout(5_000);

describe('X provider: the alert image is fetched within the guard', () => {
  describe('with loopback not allowed (AWS), nothing on this machine is reached', () => {
    it.each([
      ['plain http on 127.0.0.1', false, (port: number) => `http://127.0.0.1:${port}/card.png`],
      ['https on 127.0.0.1', true, (port: number) => `https://127.0.0.1:${port}/card.png`],
      ['https on localhost', true, (port: number) => `https://localhost:${port}/card.png`],
      ['plain http on localhost', false, (port: number) => `http://localhost:${port}/card.png`],
      [
        'localhost with a trailing dot, in capitals',
        true,
        (port: number) => `https://LOCALHOST.:${port}/c.png`,
      ],
      ['127.0.0.1 with a trailing dot', true, (port: number) => `https://127.0.0.1.:${port}/card.png`],
      ['127.0.0.1 written as a number', false, (port: number) => `http://2130706433:${port}/card.png`],
      ['a name under .localhost', true, (port: number) => `https://img.localhost:${port}/card.png`],
    ])('refuses %s: the listener gets no request and nothing is posted', async (_label, tls, urlOf) => {
      // Prepare
      const target = await listener({ tls });

      // Act
      const error = await failure(provider().send(message(urlOf(target.port)), signal()));

      // Assess
      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/^the alert image: refused .*(loopback|must use https)/);
      expect(target.received).toEqual([]);
      expect(fake.requests).toEqual([]);
    });

    it('refuses a name that resolves to loopback', async () => {
      const target = await listener({ tls: true });
      const x = provider({ imageFetch: { resolve: async () => ['127.0.0.1'], transport: standIn() } });

      const error = await failure(
        x.send(message(`https://images.example.org:${target.port}/c.png`), signal()),
      );

      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/127\.0\.0\.1 is a loopback address/);
      expect(target.received).toEqual([]);
    });

    it.each([
      ['plain http', (port: number) => `http://127.0.0.1:${port}/latest/meta-data/`, false],
      ['https', (port: number) => `https://127.0.0.1:${port}/latest/meta-data/`, true],
      ['localhost with a trailing dot', (port: number) => `https://localhost.:${port}/meta`, true],
    ])(
      'does not follow a redirect from a public-looking host to loopback over %s',
      async (_l, urlOf, tls) => {
        // Prepare: cdn.herald.test passes the guard (a public answer) and redirects inside.
        const target = await listener({ tls });
        const cdn = await listener({ tls: true, reply: redirectTo(urlOf(target.port)) });

        // Act
        const error = await failure(
          provider().send(message(`https://cdn.herald.test:${cdn.port}/card.png`), signal()),
        );

        // Assess
        expect(error.kind).toBe('permanent');
        expect(error.reason).toMatch(/refused .*\(redirected from https:\/\/cdn\.herald\.test:\d+\/…\)/);
        expect(cdn.received).toEqual(['GET /card.png']);
        expect(target.received).toEqual([]);
        expect(fake.requests).toEqual([]);
      },
    );

    it('refuses plain http even to a public host', async () => {
      const cdn = await listener();
      const error = await failure(
        provider().send(message(`http://cdn.herald.test:${cdn.port}/c.png`), signal()),
      );
      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/must use https/);
      expect(cdn.received).toEqual([]);
    });

    it.each([
      ['the metadata address', 'http://169.254.169.254/latest/meta-data/iam/', /must use https|link-local/],
      [
        'the metadata address over https, with a trailing dot',
        'https://169.254.169.254./latest/',
        /link-local/,
      ],
      ['the IPv6 metadata address', 'https://[fd00:ec2::254]/latest/meta-data/', /private/],
      ['ECS task metadata', 'https://169.254.170.2/v2/credentials', /link-local/],
      ['a name resolving to the metadata address', 'https://meta.example.org/x', /link-local/],
      ['an IPv4-mapped metadata address', 'https://[::ffff:169.254.169.254]/', /link-local/],
    ])('refuses %s without connecting', async (_label, url, why) => {
      let connected = false;
      const x = provider({
        imageFetch: {
          resolve: async () => ['169.254.169.254'],
          transport: async () => {
            connected = true;
            throw new Error('must not connect');
          },
        },
      });

      const error = await failure(x.send(message(url), signal()));

      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(why);
      expect(connected).toBe(false);
      expect(fake.requests).toEqual([]);
    });
  });

  describe('redirects between public hosts', () => {
    it('follows up to three, each checked, and posts the image', async () => {
      const image = await listener({ tls: true });
      const second = await listener({
        tls: true,
        reply: redirectTo(`https://cdn2.herald.test:${image.port}/card.png`),
      });
      const first = await listener({
        tls: true,
        reply: redirectTo(`https://cdn2.herald.test:${second.port}/b`),
      });

      const accepted = await provider().send(message(`https://cdn.herald.test:${first.port}/a`), signal());

      expect(image.received).toEqual(['GET /card.png']);
      const tweet = fake.tweets.get(accepted.providerMessageId);
      expect(tweet?.mediaIds).toHaveLength(1);
    });

    it('stops at the fourth: permanent', async () => {
      const loop = await listener({ tls: true, reply: (req, res) => redirectTo(`${req.url}x`)(req, res) });

      const error = await failure(
        provider().send(message(`https://cdn.herald.test:${loop.port}/r`), signal()),
      );

      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/redirect/);
      expect(loop.received).toHaveLength(4);
      expect(fake.requests).toEqual([]);
    });
  });

  describe('bounds on what is fetched', () => {
    it('cuts off a server that streams past 5 MB and posts nothing', async () => {
      // Prepare: no Content-Length, so only counting the bytes can stop it.
      let closedEarly: boolean | undefined;
      const chunk = Buffer.alloc(64 * 1024, 0x42);
      const big = await listener({
        tls: true,
        reply: (_req, res) => {
          res.writeHead(200, { 'content-type': 'image/png' });
          let sent = 0;
          const pump = () => {
            while (sent < 16 * 1024 * 1024) {
              sent += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            res.end();
          };
          res.on('close', () => {
            closedEarly = !res.writableFinished;
          });
          pump();
        },
      });

      // Act
      const error = await failure(
        provider().send(message(`https://cdn.herald.test:${big.port}/big.png`), signal()),
      );

      // Assess
      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/runs past the limit of 5242880 bytes/);
      await expect.poll(() => closedEarly).toBe(true);
      expect(fake.requests).toEqual([]);
    });

    it('refuses a Content-Length over 5 MB before reading the body', async () => {
      const big = await listener({
        tls: true,
        reply: (_req, res) => {
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(6 * 1024 * 1024) });
          res.write(Buffer.alloc(1024));
        },
      });

      const error = await failure(
        provider().send(message(`https://cdn.herald.test:${big.port}/b.jpg`), signal()),
      );

      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/6291456 bytes, over the limit of 5242880/);
    });

    it.each(['text/html', 'image/svg+xml', ''])('refuses content of type "%s": permanent', async (type) => {
      const page = await listener({
        tls: true,
        reply: (_req, res) => res.writeHead(200, type ? { 'content-type': type } : {}).end('<html>'),
      });

      const error = await failure(
        provider().send(message(`https://cdn.herald.test:${page.port}/p`), signal()),
      );

      expect(error.kind).toBe('permanent');
      expect(error.reason).toMatch(/X does not take/);
      expect(fake.requests).toEqual([]);
    });

    it('gives up on an image server that does not answer: retryable, and soon', async () => {
      const silent = await listener({ tls: true, reply: () => undefined });
      const x = provider({ imageFetch: { resolve, transport: standIn(), timeoutMs: 300 } });
      const started = Date.now();

      const error = await failure(
        x.send(message(`https://cdn.herald.test:${silent.port}/slow.png`), signal()),
      );

      expect(error.kind).toBe('retryable');
      expect(error.reason).toMatch(/no answer in time/);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('is retryable on a 5xx from the image server', async () => {
      const down = await listener({ tls: true, reply: (_req, res) => res.writeHead(503).end() });
      const error = await failure(
        provider().send(message(`https://cdn.herald.test:${down.port}/c.png`), signal()),
      );
      expect(error.kind).toBe('retryable');
      expect(error.reason).toMatch(/HTTP 503/);
    });
  });

  it('with loopback allowed (the embedded mode), fetches from this machine over http', async () => {
    const local = await listener();

    const accepted = await provider({ allowLoopback: true }).send(
      message(`http://127.0.0.1:${local.port}/media/card.png`),
      signal(),
    );

    expect(local.received).toEqual(['GET /media/card.png']);
    expect(fake.tweets.get(accepted.providerMessageId)?.mediaIds).toHaveLength(1);
  });
});
