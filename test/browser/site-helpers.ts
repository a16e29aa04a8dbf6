/**
 * What the residents' site tests share: a tab of their own (a language, a location, JavaScript on or off) in the
 * rig's browser, the alert the journeys read (written in Spanish, translated, then updated), the codes as the
 * sandbox outbox received them, the subscriber as officers see it through the API, and a page audit that runs axe
 * and the 320 px check on each page a journey reaches.
 */
import type { BrowserContextOptions, Page } from 'playwright-core';
import { seededZones } from '../../functions/core/zones';
import { maskEmail } from '../../functions/shared/mask';
import { parseZonePolygon, pointInPolygon } from '../../functions/site/map';
import type { SubscriberView } from '../../schemas/subscriptions';
import type { TipView } from '../../schemas/tips';
import { type TestHerald, waitFor } from '../helpers/embedded';
import { type BrowserRig, screenshot, scrollsSideways, seriousViolations } from './harness';

export const DESKTOP = { width: 1280, height: 900 };

/** A new tab in a context of its own (cookies, language, location, JavaScript), on the rig's Herald. */
export async function openTab(rig: BrowserRig, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await rig.browser.newContext({
    baseURL: rig.herald.url,
    viewport: DESKTOP,
    reducedMotion: 'reduce',
    ...options,
  });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

/** A point in Gràcia (Plaça del Sol) and one in the Eixample (Passeig de Gràcia), for the mocked location. */
export const IN_GRACIA = { latitude: 41.4017, longitude: 2.1567 };
export const IN_EIXAMPLE = { latitude: 41.3915, longitude: 2.165 };

/** The seeded zones whose polygon holds a point, by the site's own geometry (functions/site/map.ts). */
export function zonesAt(point: { latitude: number; longitude: number }): string[] {
  return seededZones()
    .zones.filter((z) => {
      const polygon = parseZonePolygon(z.polygon);
      return polygon !== undefined && pointInPolygon({ lat: point.latitude, lon: point.longitude }, polygon);
    })
    .map((z) => z.id);
}

export const WATER_CUT = {
  v1: {
    es: 'Corte de agua en Gràcia esta tarde',
    en: 'Water cut in Gràcia this afternoon',
    ca: "Tall d'aigua a Gràcia aquesta tarda",
  },
  v2: {
    es: 'El agua vuelve a Gràcia',
    en: 'Water is back in Gràcia',
    ca: "L'aigua torna a Gràcia",
  },
  place: 'Plaça del Sol',
};

/**
 * Publishes an Actual alert written in Spanish (with English and Catalan), for the Gràcia zone and a polygon
 * around Plaça del Sol, then an update of it; resolves once the update is on the public page.
 */
export async function publishWaterCut(herald: TestHerald): Promise<string> {
  const description = {
    es: 'Se corta el agua en la plaza del Sol y alrededores por una avería.',
    en: 'The water is cut in and around Plaça del Sol because of a burst main.',
    ca: "Es talla l'aigua a la plaça del Sol i els voltants per una avaria.",
  };
  const created = await herald.call('POST', '/v1/alerts', {
    role: 'officer',
    body: {
      status: 'Actual',
      category: 'Infra',
      event: 'Corte de agua',
      urgency: 'Expected',
      severity: 'Minor',
      certainty: 'Observed',
      headline: WATER_CUT.v1.es,
      description: description.es,
      language: 'es',
      translations: [
        { language: 'en', headline: WATER_CUT.v1.en, description: description.en },
        { language: 'ca', headline: WATER_CUT.v1.ca, description: description.ca },
      ],
      areas: [
        { zone: 'gracia' },
        {
          areaDesc: WATER_CUT.place,
          polygon: [
            [41.4005, 2.1555],
            [41.403, 2.1555],
            [41.403, 2.159],
            [41.4005, 2.159],
            [41.4005, 2.1555],
          ],
        },
      ],
      channels: ['x'],
    },
  });
  if (created.status !== 201) throw new Error(`the alert was refused: ${await created.text()}`);
  const id = ((await created.json()) as { id: string }).id;
  await waitFor(
    async () =>
      (await (await fetch(`${herald.url}/alerts?lang=es`)).text()).includes(WATER_CUT.v1.es)
        ? true
        : undefined,
    15_000,
    'the alert on the public page',
  );
  const updated = await herald.call('POST', `/v1/alerts/${id}/updates`, {
    role: 'officer',
    headers: { 'if-match': '"1"', 'content-type': 'application/merge-patch+json' },
    body: {
      headline: WATER_CUT.v2.es,
      description: 'Ya hay agua en toda la zona. Puede salir turbia unos minutos.',
      translations: [
        { language: 'en', headline: WATER_CUT.v2.en, description: 'There is water again everywhere.' },
        { language: 'ca', headline: WATER_CUT.v2.ca, description: 'Ja hi ha aigua a tota la zona.' },
      ],
    },
  });
  if (updated.status !== 201) throw new Error(`the update was refused: ${await updated.text()}`);
  await waitFor(
    async () =>
      (await (await fetch(`${herald.url}/alerts?lang=es`)).text()).includes(WATER_CUT.v2.es)
        ? true
        : undefined,
    15_000,
    'the update on the public page',
  );
  return id;
}

interface OutboxItem {
  recipient: string;
  text: string;
  providerMessageId: string;
}

/** The emails the sandbox holds for `address` (masked there, as everywhere), by their message ids. */
export async function emailsTo(herald: TestHerald, address: string): Promise<Map<string, string>> {
  const res = await herald.call('GET', '/v1/sandbox/outbox?channel=email&limit=1000');
  const { items } = (await res.json()) as { items: OutboxItem[] };
  return new Map(
    items.filter((i) => i.recipient === maskEmail(address)).map((i) => [i.providerMessageId, i.text]),
  );
}

/** The 6 digits of the one email `address` got after `before` was read. */
export async function newCode(
  herald: TestHerald,
  address: string,
  before: Map<string, string>,
): Promise<string> {
  const text = await waitFor(
    async () => {
      const fresh = [...(await emailsTo(herald, address))].filter(([id]) => !before.has(id));
      if (fresh.length > 1) throw new Error(`${fresh.length} emails went to ${address}, not one`);
      return fresh[0]?.[1];
    },
    10_000,
    `a code for ${address} in the outbox`,
  );
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (!code) throw new Error(`no 6-digit code in “${text}”`);
  return code;
}

/** A 6-digit code that is not `code`. */
export const wrongCode = (code: string) => code.replace(/^./, (d) => String((Number(d) + 1) % 10));

/** The subscriber as an officer lists it (masked address), or undefined. */
export async function subscriberOf(herald: TestHerald, address: string): Promise<SubscriberView | undefined> {
  const res = await herald.call('GET', '/v1/subscribers?channel=email&limit=100', { role: 'officer' });
  const { items } = (await res.json()) as { items: SubscriberView[] };
  const mine = items.filter((s) => s.address === maskEmail(address));
  if (mine.length > 1) throw new Error(`${mine.length} subscribers have the mask of ${address}`);
  return mine[0];
}

/** The tips of one alert as the officers' inbox lists them. */
export async function tipsOf(herald: TestHerald, alertId: string): Promise<TipView[]> {
  const res = await herald.call('GET', `/v1/tips?alertId=${alertId}`, { role: 'officer' });
  if (res.status !== 200) throw new Error(`GET /v1/tips answered ${res.status}`);
  return ((await res.json()) as { items: TipView[] }).items;
}

/** The values of the ticked zone boxes, in the order the page lists them. */
export async function tickedZones(page: Page): Promise<string[]> {
  const boxes = await page.locator('input[name="zones"]:checked').all();
  return Promise.all(boxes.map(async (box) => (await box.getAttribute('value')) ?? ''));
}

/** A page's text with its white space run together, as a reader hears it. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * Every page a journey reaches, checked where it is reached: axe (serious or critical WCAG 2.x A/AA and
 * best-practice violations) at desktop width, then the page at 320 × 640, where nothing may be wider than the
 * screen; and every in-page link (the skip link, an error summary's) must lead to an element of the page.
 * `problems` names the page of each finding; `checked` lists the pages seen.
 *
 * axe needs timers, which never fire in a page without JavaScript. For such a page give `axeIn`, a tab with
 * JavaScript on this site: the markup the browser rendered without JavaScript is copied into it, with its script
 * left out so nothing changes it, and axe runs there against the same stylesheet. The 320 px check runs on the
 * page itself.
 */
export class PageAudit {
  readonly problems: string[] = [];
  readonly checked: string[] = [];

  constructor(private readonly options: { axeIn?: Page } = {}) {}

  async check(page: Page, name: string): Promise<void> {
    this.checked.push(name);
    const axePage = this.options.axeIn ?? page;
    if (this.options.axeIn) {
      const html = (await page.content()).replace(/<script\b[^>]*\bsrc=[^>]*><\/script>/g, '');
      await axePage.setContent(html, { waitUntil: 'load' });
    }
    for (const violation of await seriousViolations(axePage)) this.problems.push(`${name}: ${violation}`);
    // An in-page link (skip link, error summary) must lead somewhere.
    const dangling = (await page.evaluate(
      `[...document.querySelectorAll('a[href^="#"]')].filter(a => !document.getElementById(decodeURIComponent(a.hash.slice(1)))).map(a => a.getAttribute('href'))`,
    )) as string[];
    for (const href of dangling) this.problems.push(`${name}: the link to ${href} leads nowhere`);
    const size = page.viewportSize() ?? DESKTOP;
    await page.setViewportSize({ width: 320, height: 640 });
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    const sideways = await scrollsSideways(page);
    if (width > 320 || sideways) {
      // Which elements stick out, so the finding says where to look.
      const wide = (await page.evaluate(
        `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 321).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')`,
      )) as string[];
      this.problems.push(`${name}: ${width} px wide at 320 px (${wide.join(', ')})`);
    }
    await page.setViewportSize(size);
  }
}

/** A screenshot for docs/ (only with HERALD_SCREENSHOTS), the whole page at a phone's 360 px. */
export async function phoneScreenshot(page: Page, name: string): Promise<void> {
  if (!process.env.HERALD_SCREENSHOTS) return;
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize({ width: 360, height: 740 });
  await screenshot(page, name, { top: true, fullPage: true });
  await page.setViewportSize(size);
}
