/**
 * The residents' site through createRouter against the real stores on dynalite: what each page says in each
 * language, what it costs in bytes, which headers lock it down, and that its forms are the API's own operations
 * (the same checks, limits and records) and refuse a post from another site without storing or sending anything.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CODES_PER_ADDRESS_PER_HOUR } from '../../functions/api/subscriptions';
import { STYLESHEET } from '../../functions/site/assets';
import { type Answer, apiHarness, draft, OFFICER } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { RecordingNotifier, residentsDeps } from '../helpers/residents';

const open: DynaliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function site() {
  const db = await startDynaliteStore();
  open.push(db);
  const notifier = new RecordingNotifier();
  const residents = { ...(await residentsDeps(db)), notifier };
  const h = apiHarness(db, residents);
  const get = (path: string, headers: Record<string, string> = {}) =>
    h.call({ method: 'GET', path, claims: null, headers });
  const post = (
    path: string,
    form: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    return h.call({
      method: 'POST',
      path,
      claims: null,
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  };
  /** An alert the public has seen: created, then released by the dispatcher. */
  const published = async (changes: Record<string, unknown> = {}) => {
    const id = await h.create(draft(changes));
    await h.dispatch(id, 1);
    return id;
  };
  return { ...h, db, notifier, get, post, published };
}

const gz = (s: string) => gzipSync(s).length;
/** The issue's budget: every page under 30 KB gzipped, including its CSS. */
const PAGE_BUDGET = 30 * 1024;
const mainOf = (a: Answer) => a.text.slice(a.text.indexOf('<main'), a.text.indexOf('</main>'));

describe('the pages', () => {
  it('serve every page within its budget, page and stylesheet together, gzipped', async () => {
    // Arrange: three alerts in force, one with an update, so the list, the map and a thread all have content
    const s = await site();
    const long = 'A long description of what happened and what residents should do. '.repeat(20);
    const ids = [
      await s.published({ description: long }),
      await s.published({
        areas: [
          { zone: 'gracia', areaDesc: 'Gràcia' },
          { areaDesc: 'Around the market', circle: { center: [41.4, 2.16], radiusKm: 1.5 } },
        ],
      }),
      await s.published(),
    ];
    const update = await s.call({
      method: 'POST',
      path: `/v1/alerts/${ids[0]}/updates`,
      claims: OFFICER,
      body: { headline: 'Found safe', description: 'The boy was found safe. Thank you.' },
      headers: { 'if-match': '"1"' },
    });
    expect(update.status).toBe(201);
    await s.dispatch(ids[0]!, 2);

    // Act
    const pages = [
      '/alerts',
      `/alerts/${ids[0]}`,
      // Reached through an SMS's link: the same page with its view image saying so.
      `/alerts/${ids[0]}?from=s`,
      `/alerts/${ids[1]}`,
      '/subscribe',
      '/manage',
      '/privacy',
    ];
    const sizes: Record<string, number> = {};
    for (const path of pages) {
      const res = await s.get(path);
      expect(res.status, path).toBe(200);
      sizes[path] = gz(res.text) + gz(STYLESHEET.body);
    }

    // Assess
    for (const [path, size] of Object.entries(sizes))
      expect(size, `${path}: ${size} bytes`).toBeLessThan(PAGE_BUDGET);
  });

  it('speaks the language asked for by ?lang=, else by Accept-Language, else the first of the agency', async () => {
    const s = await site();
    const es = await s.get('/alerts', { 'accept-language': 'es-ES,es;q=0.9,en;q=0.8' });
    const ca = await s.get('/alerts?lang=ca', { 'accept-language': 'es-ES' });
    const fr = await s.get('/alerts', { 'accept-language': 'fr-FR' });

    expect(es.text).toContain('<html lang="es">');
    expect(es.text).toContain('<h1>Alertas en vigor</h1>');
    expect(es.headers['content-language']).toBe('es');
    // The language came from a header: a shared cache must key on it. With ?lang= the URL says it all.
    expect(es.headers.vary).toBe('Accept-Language');
    expect(ca.text).toContain('<h1>Alertes en vigor</h1>');
    expect(ca.headers.vary).toBeUndefined();
    expect(fr.text).toContain('<html lang="en">');
  });

  it('shows an alert in the page language when the alert has it, and says so when it does not', async () => {
    const s = await site();
    const id = await s.published();

    const ca = await s.get(`/alerts/${id}?lang=ca`);
    const es = await s.get(`/alerts/${id}?lang=es`);

    expect(mainOf(ca)).toContain('Nen desaparegut a prop del port');
    expect(mainOf(es)).toContain('Missing child near the harbour');
    expect(mainOf(es)).toContain('Esta alerta no está disponible en Español');
  });

  it('gives a shared link the alert card: Open Graph and X card tags, escaped', async () => {
    const s = await site();
    const id = await s.published({ headline: 'Fire "near" <the> station', translations: [] });

    const res = await s.get(`/alerts/${id}`);

    expect(res.text).toContain(
      '<meta property="og:title" content="Fire &quot;near&quot; &lt;the&gt; station">',
    );
    expect(res.text).toContain('<meta name="twitter:card" content="summary">');
    expect(res.text).toContain(
      `<meta property="og:url" content="http://localhost:3000/alerts/${id}?lang=en">`,
    );
    expect(res.text).not.toContain('<the>');
  });

  it('draws the alert areas on a map with the same areas as a list', async () => {
    const s = await site();
    const id = await s.published({
      areas: [
        { zone: 'gracia', areaDesc: 'Gràcia' },
        { areaDesc: 'Around the market', circle: { center: [41.4, 2.16], radiusKm: 1.5 } },
      ],
    });

    const res = await s.get(`/alerts/${id}`);

    expect(res.text).toMatch(/<svg[^>]*role="img"/);
    expect(res.text).toMatch(/class="map-zone is-hit"[^>]*data-zone="gracia"/);
    expect(mainOf(res)).toContain('<li>Around the market (within 1.5 km of 41.4000, 2.1600)</li>');
  });

  it('answers 404 in the page language for an alert the public has not seen, and 304 for an unchanged page', async () => {
    const s = await site();
    const exercise = await s.published({ status: 'Exercise' });

    const missing = await s.get(`/alerts/${exercise}?lang=es`);
    const first = await s.get('/privacy?lang=es');
    const again = await s.get('/privacy?lang=es', { 'if-none-match': first.headers.etag! });

    expect(missing.status).toBe(404);
    expect(missing.text).toContain('No encontrada');
    expect(again.status).toBe(304);
  });
});

describe('counting views and clicks without tracking anyone', () => {
  it("carries a view image on the alert page, keeping ?from= only when it is a channel's code", async () => {
    const s = await site();
    const id = await s.published();
    const imageOf = async (path: string) =>
      /<img class="seen" src="([^"]+)" alt=""/.exec((await s.get(path)).text)?.[1];

    expect(await imageOf(`/alerts/${id}`)).toBe(`/alerts/${id}/seen.gif`);
    expect(await imageOf(`/alerts/${id}?from=s`)).toBe(`/alerts/${id}/seen.gif?from=s`);
    expect(await imageOf(`/alerts/${id}?from=%22%3E%3Cscript%3E`)).toBe(`/alerts/${id}/seen.gif`);
    expect(await imageOf(`/alerts/${id}?from=sms`)).toBe(`/alerts/${id}/seen.gif`);
    // Only the alert page counts a view: not the list, nor the page again after a refused tip.
    expect(await imageOf('/alerts')).toBeUndefined();
    const refused = await s.post(`/alerts/${id}/tips`, { text: '' }, { origin: 'http://localhost:3000' });
    expect(refused.text).not.toContain('class="seen"');
  });

  it('answers the image never cached and without a cookie, and counts it once per load', async () => {
    const s = await site();
    const id = await s.published();

    const first = await s.get(`/alerts/${id}/seen.gif?from=f`);
    await s.get(`/alerts/${id}/seen.gif?from=f`);
    await s.get(`/alerts/${id}/seen.gif`);
    await s.get(`/alerts/${id}/seen.gif`, { 'user-agent': 'facebookexternalhit/1.1' });

    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('image/gif');
    expect(first.headers['cache-control']).toBe('no-store, max-age=0');
    expect(first.headers['set-cookie']).toBeUndefined();
    const impact = await s.call({ method: 'GET', path: `/v1/alerts/${id}/impact`, claims: OFFICER });
    expect(impact.status).toBe(200);
    expect(impact.body).toMatchObject({
      pageViews: 3,
      directPageViews: 1,
      channels: { x: { pageViews: 0 } },
    });
  });

  it("redirects a channel's link to the officer's own link only, never to one the request names", async () => {
    const s = await site();
    const own = await s.published({ web: 'https://police.example.org/missing' });
    const plain = await s.published({ web: undefined });

    const toWeb = await s.get(`/a/${own}/x?next=https://evil.example.com`);
    const toPage = await s.get(`/a/${plain}/x`);
    const traversal = await s.get(`/a/${plain}/..%2F..%2Fevil`);

    expect(toWeb.status).toBe(302);
    expect(toWeb.headers.location).toBe('https://police.example.org/missing');
    expect(toWeb.headers['set-cookie']).toBeUndefined();
    expect(toPage.headers.location).toBe(`http://localhost:3000/alerts/${plain}?from=x`);
    expect(traversal.headers.location ?? '').not.toContain('evil');
  });
});

describe('locked down', () => {
  it('sends a CSP without unsafe-inline, no inline style or script, and no third-party address', async () => {
    const s = await site();
    const id = await s.published();
    for (const path of [
      '/alerts',
      `/alerts/${id}`,
      `/alerts/${id}?from=x`,
      '/subscribe',
      '/manage',
      '/privacy',
    ]) {
      const res = await s.get(path);
      const csp = res.headers['content-security-policy'] ?? '';
      // The alert page's view image (functions/site/counters.ts) is the site's own: img-src 'self' covers it.
      expect(csp, path).toContain("img-src 'self'");
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("form-action 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.text, path).not.toMatch(/\sstyle="/);
      // Only data blocks are inline: a script element either has a src or holds JSON.
      for (const tag of res.text.match(/<script[^>]*>/g) ?? [])
        expect(tag, path).toMatch(/src="\/site\/|type="application\/json"/);
      // What the browser loads or posts to by itself (a link the officer gave is only followed when clicked).
      const loads =
        /<(?:img|script)[^>]*\ssrc="(https?:\/\/[^/"]+)|<link rel="stylesheet" href="(https?:\/\/[^/"]+)|action="(https?:\/\/[^/"]+)/g;
      const hosts = [...res.text.matchAll(loads)].map((m) => m[1] ?? m[2] ?? m[3]);
      for (const host of hosts) expect(['http://localhost:3000'], `${path} loads ${host}`).toContain(host);
    }
  });

  it('caches public pages and never a personal one', async () => {
    const s = await site();
    expect((await s.get('/alerts')).headers['cache-control']).toBe('public, max-age=60');
    expect((await s.get('/manage')).headers['cache-control']).toBe('no-store');
    const sent = await s.post('/subscribe', {
      channel: 'email',
      address: 'vecina@example.com',
      zones: 'gracia',
    });
    expect(sent.headers['cache-control']).toBe('no-store');
    const asset = await s.get(STYLESHEET.path);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it("refuses a form posted from another site's page, and stores and sends nothing", async () => {
    const s = await site();
    const id = await s.published();
    const foreign: Record<string, string>[] = [
      { origin: 'https://attacker.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'https://sub.localhost' },
    ];
    for (const headers of foreign) {
      const signUp = await s.post(
        '/subscribe',
        { channel: 'email', address: 'a@example.com', zones: 'gracia' },
        headers,
      );
      const tip = await s.post(`/alerts/${id}/tips`, { text: 'I saw him' }, headers);
      expect(signUp.status, JSON.stringify(headers)).toBe(403);
      expect(tip.status, JSON.stringify(headers)).toBe(403);
    }
    expect(s.notifier.sent).toHaveLength(0);
    const tips = await s.call({ method: 'GET', path: '/v1/tips', claims: OFFICER });
    expect(tips.body.items).toEqual([]);
  });
});

describe('the forms are the API', () => {
  it('names each bad field beside it in the page language, and keeps what was typed', async () => {
    const s = await site();

    const res = await s.post('/subscribe?lang=es', {
      channel: 'sms',
      address: 'not a number',
      zones: 'atlantis',
    });

    expect(res.status).toBe(400);
    const main = mainOf(res);
    expect(main).toContain('class="error-summary"');
    expect(main).toContain('<p class="field-error" id="e-address">Escribe un móvil con su prefijo de país');
    expect(main).toContain('<p class="field-error" id="e-zones">Elige al menos una zona.</p>');
    expect(main).toMatch(/id="f-address"[^>]*aria-invalid="true"[^>]*value="not a number"/);
    expect(s.notifier.sent).toHaveLength(0);
  });

  it("holds a sign-up to the API's limit of codes per address, and says so", async () => {
    const s = await site();
    const form = { channel: 'email', address: 'vecina@example.com', zones: ['gracia', 'eixample'] };
    for (let i = 0; i < CODES_PER_ADDRESS_PER_HOUR; i++)
      expect((await s.post('/subscribe', form)).status).toBe(200);

    const refused = await s.post('/subscribe?lang=ca', form);

    expect(refused.status).toBe(429);
    expect(mainOf(refused)).toContain('Massa intents des d&#39;aquí en l&#39;última hora.');
    expect(s.notifier.sent).toHaveLength(CODES_PER_ADDRESS_PER_HOUR);
  });

  it('signs up with the code, and a wrong code says the tries left', async () => {
    const s = await site();
    await s.post('/subscribe', {
      channel: 'email',
      address: 'vecina@example.com',
      zones: ['gracia', 'eixample'],
      quietFrom: '22:00',
      quietTo: '07:00',
      language: 'ca',
    });
    const code = /\d{6}/.exec(s.notifier.sent[0]!.text)![0];

    const wrong = await s.post('/subscribe/confirm', {
      address: 'vecina@example.com',
      code: code === '000000' ? '111111' : '000000',
    });
    const right = await s.post('/subscribe/confirm?lang=ca', { address: 'vecina@example.com', code });

    expect(wrong.status).toBe(422);
    expect(mainOf(wrong)).toContain('That is not the code we sent. 4 tries are left.');
    expect(right.status).toBe(200);
    expect(mainOf(right)).toContain('Rebràs alertes de: Gràcia, Eixample.');
    expect(mainOf(right)).toContain('Hores de silenci: de 22:00 a 07:00.');
  });

  it('takes a tip from the alert page into the officers’ inbox, linked to the alert', async () => {
    const s = await site();
    const id = await s.published();

    const res = await s.post(`/alerts/${id}/tips?lang=es`, {
      text: 'Lo he visto en la plaza',
      contactChannel: 'none',
    });

    expect(res.status).toBe(200);
    const reference = /T-[0-9A-Z]{4}/.exec(mainOf(res))?.[0];
    expect(reference).toBeDefined();
    const tips = await s.call({ method: 'GET', path: `/v1/tips?alertId=${id}`, claims: OFFICER });
    expect(tips.body.items).toMatchObject([
      { reference, alertId: id, source: 'web', text: 'Lo he visto en la plaza' },
    ]);
  });

  it('opens a manage session with a code, changes zones and quiet hours, and ends the subscription', async () => {
    const s = await site();
    const address = 'vecina@example.com';
    await s.post('/subscribe', { channel: 'email', address, zones: ['gracia'] });
    await s.post('/subscribe/confirm', { address, code: /\d{6}/.exec(s.notifier.sent[0]!.text)![0] });

    await s.post('/manage', { address });
    const code = /\d{6}/.exec(s.notifier.sent.at(-1)!.text)![0];
    const opened = await s.post('/manage/code?lang=es', { address, code });
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/manage?lang=es');
    const cookie = opened.headers['set-cookie']!;
    expect(cookie).toMatch(/^herald_manage=[^;]+; Path=\/manage; Max-Age=1800; HttpOnly; SameSite=Strict/);
    const session = { cookie: cookie.split(';')[0]! };
    const settings = await s.get('/manage?lang=es', session);
    expect(settings.headers['cache-control']).toBe('no-store');
    const csrf = /name="csrf" value="([^"]+)"/.exec(settings.text)![1]!;

    const noToken = await s.post('/manage/settings', { zones: 'sant-marti' }, session);
    const saved = await s.post(
      '/manage/settings?lang=es',
      { csrf, zones: ['sant-marti', 'eixample'], language: 'es', quietFrom: '23:00', quietTo: '07:30' },
      session,
    );
    const ended = await s.post('/manage/end?lang=es', { csrf }, session);
    const after = await s.get('/manage', session);

    expect(noToken.status).toBe(403);
    expect(saved.status).toBe(200);
    expect(mainOf(saved)).toContain('Tus cambios están guardados.');
    expect(mainOf(saved)).toMatch(/value="sant-marti" checked/);
    expect(mainOf(saved)).not.toMatch(/value="gracia" checked/);
    expect(mainOf(saved)).toContain('value="23:00"');
    expect(ended.status).toBe(200);
    expect(ended.headers['set-cookie']).toMatch(/^herald_manage=; Path=\/manage; Max-Age=0/);
    // The ended subscription's session opens nothing any more.
    expect(mainOf(after)).toContain('name="address"');
    const stored = await s.deps.subscribers.findSubscriber('email', await s.deps.pii.hash(address));
    expect(stored).toMatchObject({
      status: 'stopped',
      language: 'es',
      quietHours: { from: '23:00', to: '07:30' },
    });
    expect([...(stored?.zones ?? [])].sort()).toEqual(['eixample', 'sant-marti']);
    const trail = await s.deps.subscribers.subscriberAudit(stored!.id);
    expect(trail.map((e) => e.action)).toEqual(expect.arrayContaining(['confirmed', 'changed', 'stopped']));
  });
});

describe('the alert card', () => {
  it('is what a shared link shows when the alert has no image: a JPEG of the current version in the page language', async () => {
    const s = await site();
    const id = await s.published({ image: undefined });

    const page = await s.get(`/alerts/${id}?lang=ca`);
    const card = await s.get(`/alerts/${id}/card.jpg?lang=ca`);
    const again = await s.get(`/alerts/${id}/card.jpg?lang=ca`, { 'if-none-match': card.headers.etag! });

    expect(page.text).toContain(
      `<meta property="og:image" content="http://localhost:3000/alerts/${id}/card.jpg?lang=ca">`,
    );
    expect(card.status).toBe(200);
    expect(card.headers['content-type']).toBe('image/jpeg');
    expect(card.headers.etag).toBe('"card-1-ca"');
    // The JPEG's start-of-image marker: the body is the picture, base64 for API Gateway.
    expect([...Buffer.from(card.text, 'base64').subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(again.status).toBe(304);
  });
});

describe('answers that are pages too', () => {
  it('links the language switcher of a form’s answer to the page the form is on, and titles a refusal as an error', async () => {
    const s = await site();
    const refused = await s.post('/subscribe/confirm?lang=es', { address: 'vecina@example.com', code: '12' });

    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/<title>Error: /);
    expect(refused.text).toContain('href="/subscribe?lang=ca" lang="ca"');
    expect(refused.text).not.toContain('/subscribe/confirm?lang=ca');
  });

  it('answers a form too big, or of the wrong type, with a page in its language rather than JSON', async () => {
    const s = await site();
    const tooBig = await s.post('/subscribe?lang=ca', {
      channel: 'email',
      address: 'x'.repeat(40_000),
      zones: 'gracia',
    });
    const json = await s.call({
      method: 'POST',
      path: '/subscribe?lang=ca',
      claims: null,
      body: { channel: 'email' },
    });

    expect(tooBig.status).toBe(413);
    expect(tooBig.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(tooBig.text).toContain('<html lang="ca">');
    expect(json.status).toBe(415);
    expect(json.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('takes a tip of 2,000 characters the browser percent-encodes to 18 KB', async () => {
    const s = await site();
    const id = await s.published();

    const res = await s.post(`/alerts/${id}/tips`, { text: '€'.repeat(2000) });

    expect(res.status).toBe(200);
    expect(res.text).toMatch(/T-[0-9A-Z]{4}/);
  });
});

describe('in the page language', () => {
  it('names a zone-only area and the severity in the page language', async () => {
    const s = await site();
    // A Spanish alert: its card speaks Spanish, its zone named as the page names it.
    const id = await s.published({
      language: 'es',
      headline: 'Niño desaparecido',
      areas: [{ zone: 'sant-andreu' }],
      severity: 'Severe',
      translations: [],
    });

    const list = await s.get('/alerts?lang=es');
    const one = await s.get(`/alerts/${id}?lang=es`);

    expect(mainOf(list)).toContain('Zona: San Andrés');
    expect(mainOf(list)).toContain('Missing person · Grave');
    expect(mainOf(one)).toContain('Missing person · Grave · Herald Police Department');
    expect(mainOf(one)).toContain('San Andrés');
    expect(mainOf(one)).not.toContain('sant-andreu<');
  });
});
