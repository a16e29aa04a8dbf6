/**
 * The guarded fetcher on its own, against real HTTP(S) servers on loopback: which URLs it refuses before any
 * connection, that it connects to the address it checked and nowhere else, and the bounds on redirects, size,
 * content type and time. Provider-level behaviour is in provider-webhook, provider-x and provider-x-image.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import selfsigned from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackHost, normaliseHost } from '../../functions/adapters/net/addresses';
import {
  createPinnedTransport,
  type GuardedFetchError,
  type GuardedFetchOptions,
  guardedFetch,
  loopbackAllowedBy,
  type PinnedTransport,
} from '../../functions/adapters/net/guarded-fetch';

const { private: KEY, cert: CERT } = await selfsigned.generate(
  [{ name: 'commonName', value: 'a.herald.test' }],
  {
    keyType: 'ec',
    notAfterDate: new Date(Date.now() + 24 * 60 * 60 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'a.herald.test' },
          { type: 2, value: 'b.herald.test' },
        ],
      },
    ],
  },
);

/** The test names resolve to this public address, which the stand-in transport reaches on 127.0.0.1. */
const PUBLIC_STANDIN = '93.184.215.14';
const resolveTest = async (host: string) => (host.endsWith('.herald.test') ? [PUBLIC_STANDIN] : ['10.0.0.1']);
const standIn: PinnedTransport = (req, signal) =>
  createPinnedTransport({ ca: CERT })(
    {
      ...req,
      addresses: req.addresses.map((a) =>
        a.address === PUBLIC_STANDIN ? { address: '127.0.0.1', family: 4 as const } : a,
      ),
    },
    signal,
  );

type Reply = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
afterEach(async () => {
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

async function server(options: { tls?: boolean; host?: string; reply?: Reply } = {}) {
  const received: { url: string; headers: IncomingMessage['headers'] }[] = [];
  const reply: Reply =
    options.reply ?? ((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end('png'));
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    received.push({ url: req.url ?? '', headers: req.headers });
    reply(req, res);
  };
  const s = options.tls ? createHttpsServer({ key: KEY, cert: CERT }, handle) : createServer(handle);
  servers.push(s);
  await new Promise<void>((done) => s.listen(0, options.host ?? '127.0.0.1', done));
  return { port: (s.address() as AddressInfo).port, received };
}

async function refusal(url: string, options: GuardedFetchOptions = {}): Promise<GuardedFetchError> {
  const error = await guardedFetch(url, { resolve: resolveTest, transport: standIn, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: 'GuardedFetchError' });
  return error as GuardedFetchError;
}

describe('guardedFetch', () => {
  describe('refuses before connecting', () => {
    it.each([
      ['plain http to loopback', false, (p: number) => `http://127.0.0.1:${p}/`],
      ['https to loopback', true, (p: number) => `https://127.0.0.1:${p}/`],
      ['https to localhost', true, (p: number) => `https://localhost:${p}/`],
      ['LOCALHOST. (capitals, trailing dot)', true, (p: number) => `https://LOCALHOST.:${p}/`],
      ['127.0.0.1. (trailing dot)', true, (p: number) => `https://127.0.0.1.:${p}/`],
      ['loopback written in hex', false, (p: number) => `http://0x7f.0.0.1:${p}/`],
    ])('%s: the listener gets nothing', async (_label, tls, urlOf) => {
      const target = await server({ tls });
      const error = await refusal(urlOf(target.port));
      expect(error.failure).toBe('refused');
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/loopback|must use https/);
      expect(target.received).toEqual([]);
    });

    it.each([
      [
        'the metadata address',
        'https://169.254.169.254/latest/meta-data/',
        /169\.254\.169\.254 is a link-local/,
      ],
      ['the metadata address with a trailing dot', 'https://169.254.169.254./', /link-local/],
      ['the IPv6 metadata address', 'https://[fd00:ec2::254]/', /fd00:ec2::254 is a private/],
      ['a name resolving inside', 'https://intranet.example.org/', /10\.0\.0\.1 is a private/],
      ['plain http to a public name', 'http://a.herald.test/', /must use https/],
      ['credentials in the URL', 'https://user:pw@a.herald.test/', /credentials/],
      ['another scheme', 'file:///etc/passwd', /must use https/],
    ])('%s', async (_label, url, why) => {
      const error = await refusal(url, {
        transport: async () => {
          throw new Error('must not connect');
        },
      });
      expect(error.failure).toBe('refused');
      expect(error.message).toMatch(why);
    });

    it('keeps the path and query of the URL out of the reason (they may hold a token)', async () => {
      const error = await refusal('https://10.0.0.1/T0KEN?k=T0KEN');
      expect(error.message).toContain('https://10.0.0.1');
      expect(error.message).not.toContain('T0KEN');
    });

    it('a name that does not exist is permanent; a resolver failure is retryable', async () => {
      const failing = (code: string) => async () => {
        throw Object.assign(new Error(code), { code });
      };
      expect((await refusal('https://nx.example.org/', { resolve: failing('ENOTFOUND') })).retryable).toBe(
        false,
      );
      expect((await refusal('https://nx.example.org/', { resolve: failing('EAI_AGAIN') })).retryable).toBe(
        true,
      );
    });
  });

  describe('the connection goes to the address that was checked', () => {
    it('a resolver answering public, then loopback, never gets the connection to loopback', async () => {
      // Prepare: a rebinding name. Were the socket to look the name up again, it would reach the listener.
      const target = await server({ tls: true });
      let lookups = 0;
      const rebinding = async () => (++lookups === 1 ? [PUBLIC_STANDIN] : ['127.0.0.1']);

      // Act: the real transport, which connects to the public address (unreachable here, or not listening).
      const error = await refusal(`https://rebind.example.org:${target.port}/`, {
        resolve: rebinding,
        transport: createPinnedTransport({ ca: CERT }),
        timeoutMs: 500,
      });

      // Assess
      expect(lookups).toBe(1);
      expect(['timeout', 'unreachable']).toContain(error.failure);
      expect(target.received).toEqual([]);
    });

    it('where loopback is allowed, reaches the first answer (127.0.0.2), not a later one (127.0.0.1)', async () => {
      const checked = await server({ host: '127.0.0.2' });
      const other = await server();
      expect(other.port).not.toBe(0);
      let lookups = 0;
      const answer = await guardedFetch(`http://localhost:${checked.port}/`, {
        allowLoopback: true,
        resolve: async () => (++lookups === 1 ? ['127.0.0.2'] : ['127.0.0.1']),
      });
      expect(answer.status).toBe(200);
      expect(checked.received).toHaveLength(1);
      expect(checked.received[0]?.headers.host).toBe(`localhost:${checked.port}`);
      expect(lookups).toBe(1);
    });
  });

  describe('redirects', () => {
    it('are the answer by default, not followed', async () => {
      const a = await server({ tls: true, reply: (_q, r) => r.writeHead(302, { location: '/next' }).end() });
      const answer = await guardedFetch(`https://a.herald.test:${a.port}/`, {
        resolve: resolveTest,
        transport: standIn,
      });
      expect(answer.status).toBe(302);
      expect(a.received).toHaveLength(1);
    });

    it('when allowed, follow each hop checked again, and drop credentials at another origin', async () => {
      const end = await server({ tls: true });
      const start = await server({
        tls: true,
        reply: (_q, r) => r.writeHead(301, { location: `https://b.herald.test:${end.port}/img` }).end(),
      });
      const answer = await guardedFetch(`https://a.herald.test:${start.port}/`, {
        resolve: resolveTest,
        transport: standIn,
        maxRedirects: 3,
        headers: { authorization: 'Bearer s3cret', 'user-agent': 'Herald' },
      });
      expect(answer.status).toBe(200);
      expect(answer.url.href).toBe(`https://b.herald.test:${end.port}/img`);
      expect(start.received[0]?.headers.authorization).toBe('Bearer s3cret');
      expect(end.received[0]?.headers.authorization).toBeUndefined();
      expect(end.received[0]?.headers['user-agent']).toBe('Herald');
    });

    it.each([
      ['loopback over http', (p: number) => `http://127.0.0.1:${p}/`],
      ['loopback over https', (p: number) => `https://127.0.0.1:${p}/`],
      ['localhost.', (p: number) => `https://localhost.:${p}/`],
      ['a name resolving inside', () => 'https://intranet.example.org/'],
      ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ])('to %s are refused, and the target gets nothing', async (_label, locationOf) => {
      const target = await server({ tls: true });
      const start = await server({
        tls: true,
        reply: (_q, r) => r.writeHead(302, { location: locationOf(target.port) }).end(),
      });
      const error = await refusal(`https://a.herald.test:${start.port}/`, { maxRedirects: 3 });
      expect(error.failure).toBe('refused');
      expect(error.message).toMatch(/redirected from https:\/\/a\.herald\.test/);
      expect(target.received).toEqual([]);
    });
  });

  describe('bounds', () => {
    it('refuses a Content-Length over maxBytes', async () => {
      const s = await server({
        tls: true,
        reply: (_q, r) => r.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000)),
      });
      const error = await refusal(`https://a.herald.test:${s.port}/`, { maxBytes: 1000 });
      expect(error.failure).toBe('too-large');
      expect(error.retryable).toBe(false);
    });

    it('stops reading a stream past maxBytes and closes the connection', async () => {
      let closedEarly: boolean | undefined;
      const s = await server({
        tls: true,
        reply: (_q, r) => {
          r.writeHead(200, { 'content-type': 'image/png' });
          r.on('close', () => {
            closedEarly = !r.writableFinished;
          });
          const timer = setInterval(() => r.write(Buffer.alloc(4096)), 5);
          r.on('close', () => clearInterval(timer));
        },
      });
      const error = await refusal(`https://a.herald.test:${s.port}/`, { maxBytes: 64 * 1024 });
      expect(error.failure).toBe('too-large');
      await expect.poll(() => closedEarly).toBe(true);
    });

    it('reads a body up to maxBytes exactly', async () => {
      const s = await server({ tls: true, reply: (_q, r) => r.writeHead(200).end(Buffer.alloc(1000, 7)) });
      const answer = await guardedFetch(`https://a.herald.test:${s.port}/`, {
        resolve: resolveTest,
        transport: standIn,
        maxBytes: 1000,
      });
      expect(answer.body).toEqual(Buffer.alloc(1000, 7));
    });

    it('refuses a content type the caller does not accept, permanently', async () => {
      const s = await server({
        tls: true,
        reply: (_q, r) => r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<p>'),
      });
      const error = await refusal(`https://a.herald.test:${s.port}/`, { accept: (t) => t === 'image/png' });
      expect(error.failure).toBe('content-type');
      expect(error.message).toMatch(/text\/html/);
      expect(error.retryable).toBe(false);
    });

    it('gives up when no answer comes in time: retryable', async () => {
      const s = await server({ tls: true, reply: () => undefined });
      const started = Date.now();
      const error = await refusal(`https://a.herald.test:${s.port}/`, { timeoutMs: 200 });
      expect(error.failure).toBe('timeout');
      expect(error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('gives up on a body that trickles past the deadline', async () => {
      const s = await server({
        tls: true,
        reply: (_q, r) => {
          r.writeHead(200);
          const timer = setInterval(() => r.write('x'), 50);
          r.on('close', () => clearInterval(timer));
        },
      });
      const error = await refusal(`https://a.herald.test:${s.port}/`, { timeoutMs: 300 });
      expect(error.failure).toBe('timeout');
    });
  });

  describe('host spelling', () => {
    it.each([
      ['https://LOCALHOST./', 'localhost'],
      ['https://ｌｏｃａｌｈｏｓｔ/', 'localhost'],
      ['https://Cdn.Example.ORG./x', 'cdn.example.org'],
      ['https://[FD00:EC2::254]/', 'fd00:ec2::254'],
      ['https://169.254.169.254./', '169.254.169.254'],
      ['https://2130706433/', '127.0.0.1'],
    ])('%s is %s', (url, host) => {
      expect(normaliseHost(new URL(url))).toBe(host);
    });

    it('knows the names and addresses of this machine', () => {
      for (const host of ['localhost', 'a.localhost', '127.0.0.9', '::1', '::ffff:127.0.0.1'])
        expect(isLoopbackHost(host)).toBe(true);
      for (const host of ['localhost.example.org', 'notlocalhost', '10.0.0.1'])
        expect(isLoopbackHost(host)).toBe(false);
    });
  });

  it('reads the loopback allowance from HERALD_FETCH_ALLOW_LOOPBACK or its older webhook name', () => {
    expect(loopbackAllowedBy({ HERALD_FETCH_ALLOW_LOOPBACK: 'true' })).toBe(true);
    expect(loopbackAllowedBy({ HERALD_WEBHOOK_ALLOW_LOOPBACK: 'true' })).toBe(true);
    expect(loopbackAllowedBy({ HERALD_FETCH_ALLOW_LOOPBACK: '1' })).toBe(false);
    expect(loopbackAllowedBy({})).toBe(false);
  });
});
