/**
 * A whole embedded Herald cannot be driven by a web page (local/origin-guard.ts): every route in the route table,
 * the sandbox and the console's sign-in among them, refuses a Host that is not this server's (DNS rebinding), and
 * every state-changing one refuses a request another origin's page made. The routes are read from
 * schemas/routes.ts, so a route added later is covered without touching this file. What programs send (no Origin)
 * and what the console's own pages send (its own origin, JSON) still works.
 */
import { type IncomingHttpHeaders, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryReport } from '../../schemas/delivery';
import { ROUTES, type RouteSpec } from '../../schemas/routes';
import { DRAFT, startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

let herald: TestHerald;
let token: string;

beforeAll(async () => {
  herald = await startTestHerald();
  // Every role, so a refusal below cannot be the authorizer's or a role check's.
  token = await herald.identity.issue({ roles: ['officer', 'supervisor', 'auditor'] });
});
afterAll(async () => {
  await herald?.cleanup();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with exactly these headers, Host included (fetch sets Host itself). */
function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: herald.port,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          ...headers,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
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

const ROUTE_TABLE: readonly RouteSpec[] = ROUTES;
const pathOf = (path: string) => path.replace(/\{[^}]+\}/g, '01JTESTTESTTESTTESTTESTTEST');
const STATE_CHANGING = ROUTE_TABLE.filter((r) => r.method !== 'GET');
const SANDBOX_WITH_BODY = ROUTE_TABLE.filter((r) => r.embeddedOnly && r.method !== 'GET');
/** A body each state-changing route would otherwise act on, or at least read. */
const JSON_BODY: Record<string, string> = {
  sandboxFaults: '{"x":{"status":500,"times":1}}',
  sandboxInboundSms: '{"from":"+34611000111","body":"HELP"}',
  sandboxToken: '{"role":"supervisor"}',
};
const bodyOf = (operationId: string) => JSON_BODY[operationId] ?? '{}';
const JSON_TYPE = { 'content-type': 'application/json' };

function expectProblem(answer: Answer, status: number, detail: RegExp) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(JSON.parse(answer.body)).toMatchObject({ status, detail: expect.stringMatching(detail) });
}

describe('embedded: a Host that is not this server (DNS rebinding)', () => {
  const forged = () => ({ host: `rebound.evil.example:${herald.port}` });

  it.each(ROUTE_TABLE.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'refuses %s with 421',
    async (_name, route) => {
      const answer = await send(
        route.method,
        pathOf(route.path),
        { ...forged(), ...JSON_TYPE },
        bodyOf(route.operationId),
      );
      expectProblem(answer, 421, /Host/);
    },
  );

  it.each(['/', '/index.html', '/config.json', `/media/${'a'.repeat(64)}.png`])(
    'refuses GET %s (the console, its configuration, images) with 421',
    async (path) => {
      expectProblem(await send('GET', path, forged()), 421, /Host/);
    },
  );

  it('changes nothing when refusing: the faults a rebound page tried to set are not set', async () => {
    await send('PUT', '/v1/sandbox/faults', { ...forged(), ...JSON_TYPE }, bodyOf('sandboxFaults'));

    const faults = await send('GET', '/v1/sandbox/faults');

    expect(JSON.parse(faults.body)).toEqual({});
  });
});

describe('embedded: a state-changing request a page on another origin made', () => {
  const routes = STATE_CHANGING.map((r) => [`${r.method} ${r.path}`, r] as const);

  it.each(routes)('refuses %s from a foreign Origin with 403', async (_name, route) => {
    const answer = await send(
      route.method,
      pathOf(route.path),
      { origin: 'https://evil.example', ...JSON_TYPE },
      bodyOf(route.operationId),
    );
    expectProblem(answer, 403, /another origin/);
  });

  it.each(routes)('refuses %s marked Sec-Fetch-Site: cross-site with 403', async (_name, route) => {
    const answer = await send(
      route.method,
      pathOf(route.path),
      { 'sec-fetch-site': 'cross-site', ...JSON_TYPE },
      bodyOf(route.operationId),
    );
    expectProblem(answer, 403, /another site/);
  });

  it.each(routes)(
    'refuses %s from another port of this machine (same site, another origin) with 403',
    async (_name, route) => {
      const answer = await send(
        route.method,
        pathOf(route.path),
        { origin: `http://localhost:${herald.port + 1}`, ...JSON_TYPE },
        bodyOf(route.operationId),
      );
      expectProblem(answer, 403, /another origin/);
    },
  );
});

describe('embedded: the sandbox reads only JSON', () => {
  const cases = SANDBOX_WITH_BODY.flatMap((r) =>
    ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined].map(
      (type) => [`${r.method} ${r.path}`, type ?? 'no content type', r, type] as const,
    ),
  );

  it.each(cases)('refuses %s sent as %s with 415', async (_name, _typeName, route, type) => {
    // A type a form on another site can send, here sent from this machine with no Origin: the type alone refuses.
    const answer = await send(
      route.method,
      pathOf(route.path),
      type ? { 'content-type': type } : {},
      bodyOf(route.operationId),
    );

    expect(answer.status).toBe(415);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('embedded: what programs and the console send still works', () => {
  it.each([
    ['no Origin (curl, a CAD system)', {}],
    ['its own origin', { origin: 'http://HERE', 'sec-fetch-site': 'same-origin' }],
    ['its own origin by the name localhost', { origin: 'http://localhost:PORT', host: 'localhost:PORT' }],
  ])('the sandbox and the API answer a request with %s', async (_case, template) => {
    const headers = Object.fromEntries(
      Object.entries(template).map(([k, v]) => [
        k,
        v.replace('HERE', `127.0.0.1:${herald.port}`).replace('PORT', String(herald.port)),
      ]),
    );

    const signIn = await send(
      'POST',
      '/v1/sandbox/token',
      { ...headers, ...JSON_TYPE },
      '{"role":"officer"}',
    );
    const faults = await send('PUT', '/v1/sandbox/faults', { ...headers, ...JSON_TYPE }, '{}');
    const sms = await send(
      'POST',
      '/v1/sandbox/inbound/sms',
      { ...headers, ...JSON_TYPE },
      bodyOf('sandboxInboundSms'),
    );
    const preview = await send(
      'POST',
      '/v1/alerts/preview',
      { ...headers, ...JSON_TYPE },
      JSON.stringify(DRAFT),
    );
    const page = await send('GET', '/', headers);

    expect(signIn.status).toBe(200);
    expect(JSON.parse(signIn.body)).toHaveProperty('token');
    expect(faults.status).toBe(200);
    expect(sms.status).toBe(200);
    expect(preview.status).toBe(200);
    expect(page.status).toBe(200);
  });

  it('cancels with no body and no content type, as a CAD system may', async () => {
    const created = await herald.call('POST', '/v1/alerts', { role: 'officer', body: DRAFT });
    const { id } = (await created.json()) as { id: string };

    const cancelled = await send('POST', `/v1/alerts/${id}/cancel`);

    expect(cancelled.status).toBe(201);
  });

  it('lets a page on another site read the public feed', async () => {
    const answer = await send('GET', '/v1/feed.json', {
      origin: 'https://news.example',
      'sec-fetch-site': 'cross-site',
    });

    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('embedded: a webhook URL is masked wherever the sandbox shows it', () => {
  it('keeps the outlet URL out of the outbox and the delivery receipts: scheme and host only', async () => {
    // Prepare: a media webhook on the test roster, its token in the path and the query. An exercise reaches it
    // through the sandbox only (webhooks are otherwise delivered for real, each signed with its own secret).
    const url = 'https://hooks.example.org/herald/T0KEN-IN-PATH?token=s3cret-in-query';
    const hook = await herald.call('POST', '/v1/webhooks', {
      role: 'officer',
      body: { url, name: 'Newsroom', zones: ['eixample'], audience: 'test' },
    });
    expect(hook.status).toBe(201);

    // Act
    const created = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: {
        ...DRAFT,
        status: 'Exercise',
        areas: [{ zone: 'eixample', areaDesc: 'Eixample' }],
        channels: ['webhook'],
      },
    });
    const { id } = (await created.json()) as { id: string };
    const outbox = await waitFor(async () => {
      const res = await herald.call('GET', `/v1/sandbox/outbox?channel=webhook&alertId=${id}`);
      const body = await res.text();
      return (JSON.parse(body) as { items: unknown[] }).items.length > 0 ? body : undefined;
    });
    const report = await waitFor(async () => {
      const res = await herald.call('GET', `/v1/alerts/${id}/deliveries`, { role: 'auditor' });
      const body = (await res.json()) as DeliveryReport;
      return body.deliveries.some((d) => d.status === 'sent') ? body : undefined;
    });

    // Assess
    expect(JSON.parse(outbox).items[0].recipient).toBe('https://hooks.example.org/…');
    expect(report.deliveries.find((d) => d.status === 'sent')).toMatchObject({ sandbox: true });
    for (const shown of [outbox, JSON.stringify(report)]) {
      expect(shown).not.toContain('T0KEN-IN-PATH');
      expect(shown).not.toContain('s3cret-in-query');
    }
  });

  it('masks a webhook URL an older outbox kept in clear when listing it', async () => {
    // Prepare: an item as the sandbox provider recorded it before it masked webhook URLs
    await herald.store.append({
      channel: 'webhook',
      alertId: 'older-outbox',
      version: 1,
      recipient: 'https://hooks.example.net/services/T0KEN?sig=abc',
      text: 'Road closed',
      providerMessageId: 'sbx-webhook-older',
      at: new Date().toISOString(),
      idempotencyKey: 'older-outbox:1:webhook:sub',
    });

    // Act
    const res = await herald.call('GET', '/v1/sandbox/outbox?channel=webhook&alertId=older-outbox');

    // Assess
    const body = (await res.json()) as { items: { recipient: string }[] };
    expect(body.items.map((i) => i.recipient)).toEqual(['https://hooks.example.net/…']);
  });
});
