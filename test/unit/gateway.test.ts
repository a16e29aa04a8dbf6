import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { actorFromEvent } from '../../functions/shared/principal';
import { EmbeddedIdentity } from '../../local/auth';
import { type Gateway, type GatewayOptions, startGateway } from '../../local/gateway';
import { ROUTES, type RouteSpec } from '../../schemas/routes';

type Invoke = GatewayOptions['invoke'];

let dataDir: string;
let identity: EmbeddedIdentity;
let gateway: Gateway;
const invoke = vi.fn<Invoke>();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-gateway-'));
  identity = await EmbeddedIdentity.open(dataDir);
  gateway = await startGateway({ port: 0, routes: ROUTES, identity, invoke, maxBodyBytes: 1024 });
});

afterAll(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  invoke.mockReset();
  vi.restoreAllMocks();
});

function lastCall(): { event: APIGatewayProxyEventV2WithJWTAuthorizer; context: Context } {
  expect(invoke).toHaveBeenCalledOnce();
  const [event, context] = invoke.mock.calls[0]!;
  return { event, context };
}

const ok = (): APIGatewayProxyResultV2 => ({ statusCode: 204 });

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as Record<string, unknown>;
}

describe('Gateway: the event API Gateway builds', () => {
  it('builds the payload 2.0 event for a jwt route with query, cookies, JSON body and path parameters', async () => {
    // Prepare
    invoke.mockResolvedValue(ok());
    const token = await identity.issue({ roles: ['officer'] });
    const body = JSON.stringify({ headline: 'Road closed', reason: 'marathón' });
    const started = Date.now();

    // Act
    const res = await fetch(`${gateway.url}/v1/alerts/01J%20X%2F9/updates?b=2&a=1&a=3&q=caf%C3%A9+bar`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'If-Match': '"1"',
        'User-Agent': 'herald-test/1',
        Cookie: 'session=abc; theme=dark',
      },
      body,
    });

    // Assess
    expect(res.status).toBe(204);
    const { event, context } = lastCall();
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /v1/alerts/{id}/updates');
    expect(event.rawPath).toBe('/v1/alerts/01J X/9/updates');
    expect(event.rawQueryString).toBe('b=2&a=1&a=3&q=caf%C3%A9+bar');
    expect(event.queryStringParameters).toEqual({ b: '2', a: '1,3', q: 'café bar' });
    expect(event.pathParameters).toEqual({ id: '01J X/9' });
    expect(event.cookies).toEqual(['session=abc', 'theme=dark']);
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      'if-match': '"1"',
      'user-agent': 'herald-test/1',
      authorization: `Bearer ${token}`,
      host: `127.0.0.1:${gateway.port}`,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': String(gateway.port),
      'x-forwarded-proto': 'http',
    });
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(event.headers).not.toHaveProperty('cookie');
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);

    const rc = event.requestContext;
    expect(rc).toMatchObject({
      accountId: '000000000000',
      apiId: 'embedded',
      domainName: `127.0.0.1:${gateway.port}`,
      domainPrefix: '127',
      http: {
        method: 'POST',
        path: '/v1/alerts/01J X/9/updates',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'herald-test/1',
      },
      routeKey: 'POST /v1/alerts/{id}/updates',
      stage: '$default',
    });
    expect(rc.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(res.headers.get('apigw-requestid')).toBe(rc.requestId);
    expect(rc.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(rc.timeEpoch).toBeGreaterThanOrEqual(started);
    expect(rc.timeEpoch).toBeLessThanOrEqual(Date.now());

    expect(rc.authorizer.jwt.scopes).toBeNull();
    expect(rc.authorizer.jwt.claims).toMatchObject({
      sub: 'embedded-officer',
      'cognito:groups': '[officer]',
      token_use: 'id',
      iss: 'urn:herald:embedded',
      aud: 'herald-console',
    });
    expect(rc.authorizer.jwt.claims.exp).toMatch(/^\d+$/);

    expect(context).toMatchObject({
      functionName: 'api',
      functionVersion: '$LATEST',
      logGroupName: '/aws/lambda/api',
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.invokedFunctionArn).toMatch(/^arn:aws:lambda:[a-z0-9-]+:000000000000:function:api$/);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(29_000);
  });

  it('joins a header sent on several lines with a comma', async () => {
    invoke.mockResolvedValue(ok());
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${gateway.url}/healthz`,
        { headers: { 'X-Tag': ['first', 'second'] } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });

    expect(status).toBe(204);
    expect(lastCall().event.headers['x-tag']).toBe('first,second');
  });

  it('leaves out body, cookies, query parameters, path parameters and authorizer when there are none', async () => {
    invoke.mockResolvedValue(ok());

    await fetch(`${gateway.url}/healthz`);

    const { event } = lastCall();
    expect(event.routeKey).toBe('GET /healthz');
    expect(event.rawQueryString).toBe('');
    expect(event.isBase64Encoded).toBe(false);
    for (const key of ['body', 'cookies', 'queryStringParameters', 'pathParameters']) {
      expect(event).not.toHaveProperty(key);
    }
    expect(event.requestContext).not.toHaveProperty('authorizer');
  });

  it.each([
    ['application/octet-stream', Buffer.from([0, 1, 254, 255])],
    ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
    ['application/x-www-form-urlencoded', Buffer.from('from=%2B34600000000&body=JOIN')],
  ])('passes a %s body base64-encoded', async (contentType, bytes) => {
    invoke.mockResolvedValue(ok());

    await fetch(`${gateway.url}/v1/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': contentType },
      body: bytes,
    });

    const { event } = lastCall();
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').equals(bytes)).toBe(true);
  });

  it('passes a text/plain body as a UTF-8 string', async () => {
    invoke.mockResolvedValue(ok());
    await fetch(`${gateway.url}/v1/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'Avís: carrer tallat',
    });
    expect(lastCall().event).toMatchObject({ body: 'Avís: carrer tallat', isBase64Encoded: false });
  });
});

describe('Gateway: routes', () => {
  it('sends an unmatched path or method to the handler as $default, without claims', async () => {
    invoke.mockResolvedValue({ statusCode: 404 });
    const token = await identity.issue({ roles: ['officer'] });

    const res = await fetch(`${gateway.url}/v1/nothing-here`, {
      headers: { authorization: `Bearer ${token}` },
    });

    expect(res.status).toBe(404);
    const { event } = lastCall();
    expect(event.routeKey).toBe('$default');
    expect(event.requestContext.routeKey).toBe('$default');
    expect(event.requestContext).not.toHaveProperty('authorizer');
    expect(event).not.toHaveProperty('pathParameters');

    invoke.mockClear();
    await fetch(`${gateway.url}/v1/alerts`, { method: 'DELETE' });
    expect(lastCall().event.routeKey).toBe('$default');
  });

  it('prefers a literal segment to a parameter, and a parameter to a greedy one', async () => {
    const routes: RouteSpec[] = [
      { operationId: 'any', method: 'GET', path: '/files/{proxy+}', auth: 'public', roles: [], summary: '' },
      { operationId: 'one', method: 'GET', path: '/files/{name}', auth: 'public', roles: [], summary: '' },
      { operationId: 'latest', method: 'GET', path: '/files/latest', auth: 'public', roles: [], summary: '' },
    ];
    const local = await startGateway({ port: 0, routes, identity, invoke });
    invoke.mockResolvedValue(ok());
    try {
      const keyOf = async (path: string) => {
        invoke.mockClear();
        await fetch(`${local.url}${path}`);
        const { event } = lastCall();
        return [event.routeKey, event.pathParameters];
      };
      expect(await keyOf('/files/latest')).toEqual(['GET /files/latest', undefined]);
      expect(await keyOf('/files/report.pdf')).toEqual(['GET /files/{name}', { name: 'report.pdf' }]);
      expect(await keyOf('/files/2026/report.pdf')).toEqual([
        'GET /files/{proxy+}',
        { proxy: '2026/report.pdf' },
      ]);
      expect(await keyOf('/files')).toEqual(['$default', undefined]);
    } finally {
      await local.close();
    }
  });

  it('lets intercept answer first, and passes on what it declines', async () => {
    const intercept = vi.fn<NonNullable<GatewayOptions['intercept']>>(async (_req, res, url) => {
      if (!url.pathname.startsWith('/console/')) return false;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Herald</h1>');
      return true;
    });
    const local = await startGateway({ port: 0, routes: ROUTES, identity, invoke, intercept });
    invoke.mockResolvedValue(ok());
    try {
      const page = await fetch(`${local.url}/console/index.html`);
      expect(await page.text()).toBe('<h1>Herald</h1>');
      expect(invoke).not.toHaveBeenCalled();

      await fetch(`${local.url}/healthz`);
      expect(invoke).toHaveBeenCalledOnce();
      expect(intercept).toHaveBeenCalledTimes(2);
    } finally {
      await local.close();
    }
  });
});

describe('Gateway: the JWT authorizer', () => {
  it.each([
    ['no Authorization header', undefined],
    ['an empty bearer', 'Bearer '],
    ['a token that is not a JWT', 'Bearer not-a-token'],
    ['a garbled JWT', 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA'],
  ])('answers 401 problem+json for %s, without calling the handler', async (_case, authorization) => {
    const res = await fetch(`${gateway.url}/v1/alerts`, {
      method: 'POST',
      headers: authorization === undefined ? {} : { authorization },
    });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    expect(problem.detail).toEqual(expect.any(String));
    expect(invoke).not.toHaveBeenCalled();
  });

  it('refuses a token from another instance and says why, without echoing the token', async () => {
    const other = await EmbeddedIdentity.open(join(dataDir, 'other-instance'));
    const token = await other.issue({ roles: ['supervisor'] });

    const res = await fetch(`${gateway.url}/v1/alerts/01J/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const text = JSON.stringify(await problemOf(res));
    expect(text).not.toContain(token);
    expect(text).toContain('key');
    expect(invoke).not.toHaveBeenCalled();
  });

  it('passes claims as API Gateway does: strings, with groups as "[a b]"', async () => {
    invoke.mockResolvedValue(ok());
    const token = await identity.issue({ roles: ['officer', 'supervisor'], sub: 'desk-1' });

    // Without the "Bearer " prefix too: API Gateway accepts a bare token in the identity source.
    await fetch(`${gateway.url}/v1/alerts/01J/cancel`, { method: 'POST', headers: { authorization: token } });

    const { event } = lastCall();
    expect(event.requestContext.authorizer.jwt.claims['cognito:groups']).toBe('[officer supervisor]');
    expect(
      Object.values(event.requestContext.authorizer.jwt.claims).every((v) => typeof v === 'string'),
    ).toBe(true);
    expect(actorFromEvent(event)).toEqual({ id: 'desk-1', roles: ['officer', 'supervisor'] });
  });

  it('lets a public route through without a token, and ignores a bad one there', async () => {
    invoke.mockResolvedValue({ statusCode: 200, body: 'ok' });

    const res = await fetch(`${gateway.url}/healthz`, { headers: { authorization: 'Bearer rubbish' } });

    expect(res.status).toBe(200);
    expect(lastCall().event.requestContext).not.toHaveProperty('authorizer');
  });
});

describe('Gateway: limits and failures', () => {
  it('answers 413 problem+json for a body over maxBodyBytes, without calling the handler', async () => {
    const res = await fetch(`${gateway.url}/v1/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(1025),
    });

    expect(res.status).toBe(413);
    expect(await problemOf(res)).toMatchObject({ status: 413, title: 'Content Too Large' });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('accepts a body of exactly maxBodyBytes', async () => {
    invoke.mockResolvedValue(ok());
    const res = await fetch(`${gateway.url}/v1/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(1024),
    });
    expect(res.status).toBe(204);
    expect(lastCall().event.body).toHaveLength(1024);
  });

  it('answers 413 to a chunked body that grows past the limit', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new Uint8Array(600));
        controller.close();
      },
    });
    const res = await fetch(`${gateway.url}/v1/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(invoke).not.toHaveBeenCalled();
  });

  it('answers 500 with a fixed message when the handler throws, and logs the error instead', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    invoke.mockRejectedValue(new Error('table herald-prod unreachable at 10.0.0.7'));

    const res = await fetch(`${gateway.url}/healthz`);

    expect(res.status).toBe(500);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(JSON.stringify(problem)).not.toContain('10.0.0.7');
    expect(logged).toHaveBeenCalled();
    expect(String(logged.mock.calls[0]?.[0])).toContain('GET /healthz');
  });

  it('answers 500 when the handler returns a status code API Gateway would not accept', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    invoke.mockResolvedValue({ statusCode: 42 });
    const res = await fetch(`${gateway.url}/healthz`);
    expect(res.status).toBe(500);
  });
});

describe('Gateway: mapping the result back', () => {
  it('maps a structured result: status, headers, cookies and body', async () => {
    invoke.mockResolvedValue({
      statusCode: 201,
      headers: { Location: '/v1/alerts/01J', ETag: '"1"', 'Content-Type': 'application/json', 'X-Count': 3 },
      cookies: ['a=1; Path=/; HttpOnly', 'b=2'],
      body: '{"id":"01J"}',
    });

    const res = await fetch(`${gateway.url}/healthz`);

    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/alerts/01J');
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('x-count')).toBe('3');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'b=2']);
    expect(res.headers.get('apigw-requestid')).toBe(lastCall().event.requestContext.requestId);
    expect(await res.json()).toEqual({ id: '01J' });
  });

  it('decodes a base64 body the handler marked isBase64Encoded', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
    invoke.mockResolvedValue({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });

    const res = await fetch(`${gateway.url}/healthz`);

    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['an object without statusCode', { status: 'ok', items: [1, 2] }, '{"status":"ok","items":[1,2]}'],
    ['a string', 'hello', '"hello"'],
  ])('answers 200 application/json for %s, as API Gateway infers', async (_case, result, body) => {
    invoke.mockResolvedValue(result as APIGatewayProxyResultV2);

    const res = await fetch(`${gateway.url}/healthz`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(body);
  });
});

/** Writes `head` on a fresh connection and reads everything until the server closes it. */
function rawExchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('Gateway: request heads Node cannot read', () => {
  it('answers headers over the limit with 431 problem+json naming the limit, then closes', async () => {
    // Prepare: 20 KiB of headers, past Node's 16 KiB default
    const padding = 'a'.repeat(20 * 1024);
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nX-Padding: ${padding}\r\n\r\n`;

    // Act
    const answer = await rawExchange(gateway.port, head);

    // Assess
    const [top, body] = answer.split('\r\n\r\n');
    expect(top).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(top).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
    expect(top).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(body!)).toEqual({
      type: 'about:blank',
      title: 'Request Header Fields Too Large',
      status: 431,
      detail: "The request's headers are larger than 16384 bytes in all.",
    });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('answers a malformed request with 400 problem+json, then closes', async () => {
    const answer = await rawExchange(gateway.port, 'GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n');

    const [top, body] = answer.split('\r\n\r\n');
    expect(top).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(top).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
    expect(JSON.parse(body!)).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(invoke).not.toHaveBeenCalled();
  });
});

describe('Gateway: lifecycle', () => {
  it('closes even while a client holds a keep-alive connection', async () => {
    const local = await startGateway({ port: 0, routes: ROUTES, identity, invoke });
    invoke.mockResolvedValue(ok());
    await fetch(`${local.url}/healthz`, { headers: { connection: 'keep-alive' } });

    await expect(local.close()).resolves.toBeUndefined();
    await expect(fetch(`${local.url}/healthz`)).rejects.toThrow();
  });
});
