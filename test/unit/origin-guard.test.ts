/**
 * The embedded gateway's Host and Origin rules (local/origin-guard.ts), on a gateway with a stub handler and
 * intercept: what is refused never reaches either, and what programs and the console's own pages send passes.
 * test/e2e/embedded-origin.test.ts runs the same rules against every route of a whole embedded Herald.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmbeddedIdentity } from '../../local/auth';
import { type Gateway, type GatewayOptions, startGateway } from '../../local/gateway';
import { ROUTES } from '../../schemas/routes';

const PUBLIC_BASE = 'https://alerts.city.example';

let dataDir: string;
let gateway: Gateway;
const invoke = vi.fn<GatewayOptions['invoke']>();
const intercept = vi.fn<NonNullable<GatewayOptions['intercept']>>();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-origin-'));
  const identity = await EmbeddedIdentity.open(dataDir);
  gateway = await startGateway({
    port: 0,
    routes: ROUTES,
    identity,
    invoke,
    intercept,
    publicBaseUrl: PUBLIC_BASE,
  });
});

afterAll(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  invoke.mockReset();
  intercept.mockReset();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with exactly these headers, Host included (fetch sets Host itself). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method,
        path,
        // Node's client sends a DELETE's body without a length unless told, which no server reads as a body.
        headers:
          body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        setHost: !('host' in headers),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const here = () => `127.0.0.1:${gateway.port}`;

function expectRefused(answer: Answer, status: number, detail: RegExp) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(JSON.parse(answer.body)).toMatchObject({ status, detail: expect.stringMatching(detail) });
  expect(intercept).not.toHaveBeenCalled();
  expect(invoke).not.toHaveBeenCalled();
}

describe('Gateway: the Host must name this server (DNS rebinding)', () => {
  it.each([
    ['a rebound name on the right port', () => `evil.example:${gateway.port}`],
    ['a rebound name without a port', () => 'evil.example'],
    ['localhost on another port', () => `localhost:${gateway.port + 1}`],
    ['the public host with a path stuffed in', () => 'alerts.city.example/x'],
    ['credentials before the host', () => `user@127.0.0.1:${gateway.port}`],
    ['another address literal', () => `10.1.2.3:${gateway.port}`],
    ['an empty Host', () => ''],
  ])('answers 421 to %s, on GET as on POST, before intercept and the handler', async (_case, host) => {
    for (const method of ['GET', 'POST']) {
      const answer = await send(method, '/v1/sandbox/faults', { host: host() });
      expectRefused(answer, 421, /HERALD_PUBLIC_BASE_URL/);
    }
  });

  it.each([
    ['the address it listens on', () => here()],
    ['localhost', () => `localhost:${gateway.port}`],
    ['localhost in capitals', () => `LOCALHOST:${gateway.port}`],
    ['IPv6 loopback', () => `[::1]:${gateway.port}`],
    ["HERALD_PUBLIC_BASE_URL's host (a proxy in front, on its own port)", () => 'alerts.city.example'],
    ["HERALD_PUBLIC_BASE_URL's host with its default port spelled out", () => 'alerts.city.example:443'],
  ])('lets a request naming %s through', async (_case, host) => {
    intercept.mockResolvedValue(false);
    invoke.mockResolvedValue({ statusCode: 204 });

    const answer = await send('GET', '/healthz', { host: host() });

    expect(answer.status).toBe(204);
    expect(invoke).toHaveBeenCalledOnce();
  });
});

describe('Gateway: a state-changing request from another origin', () => {
  it.each([
    ['another site', { origin: 'https://evil.example' }],
    ['another port of this machine', { origin: 'http://localhost:1' }],
    ['this host over https (not what the embedded server speaks)', { origin: 'https://127.0.0.1' }],
    ['the null origin of a sandboxed frame or a file', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site, without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site, without Origin', { 'sec-fetch-site': 'same-site' }],
  ])('is refused with 403 when it comes from %s, whatever the method', async (_case, headers) => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const answer = await send(
        method,
        '/v1/alerts',
        { ...headers, 'content-type': 'application/json' },
        '{}',
      );
      expectRefused(answer, 403, /another (site|origin)/);
    }
  });

  it.each([
    ['no Origin (curl, a CAD system, SNS)', {}],
    ['its own origin', { origin: 'http://HERE', 'sec-fetch-site': 'same-origin' }],
    ['this server by another of its names', { origin: 'http://localhost:PORT' }],
    ["HERALD_PUBLIC_BASE_URL's origin (the console behind the proxy)", { origin: PUBLIC_BASE }],
    ['a navigation the person started', { 'sec-fetch-site': 'none' }],
  ])('passes when it comes with %s', async (_case, headers) => {
    intercept.mockResolvedValue(false);
    invoke.mockResolvedValue({ statusCode: 204 });
    const resolved = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [
        k,
        v.replace('HERE', here()).replace('PORT', String(gateway.port)),
      ]),
    );

    const answer = await send(
      'POST',
      '/v1/subscriptions',
      { ...resolved, 'content-type': 'application/json' },
      '{}',
    );

    expect(answer.status).toBe(204);
    expect(invoke).toHaveBeenCalledOnce();
  });

  it('leaves reads from other sites alone: a page elsewhere may GET the public feeds', async () => {
    intercept.mockResolvedValue(false);
    invoke.mockResolvedValue({
      statusCode: 200,
      headers: { 'access-control-allow-origin': '*' },
      body: '{}',
    });

    const answer = await send('GET', '/v1/feed.json', {
      origin: 'https://news.example',
      'sec-fetch-site': 'cross-site',
    });

    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
  });

  it("passes SNS's POST /v1/inbound/sms, text/plain and without Origin, to the handler", async () => {
    intercept.mockResolvedValue(false);
    invoke.mockResolvedValue({ statusCode: 200, body: 'ok' });

    const answer = await send(
      'POST',
      '/v1/inbound/sms',
      { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      '{"Type":"Notification"}',
    );

    expect(answer.status).toBe(200);
    const [event] = invoke.mock.calls[0]!;
    expect(event.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(event.body).toBe('{"Type":"Notification"}');
  });
});
