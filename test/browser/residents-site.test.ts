/**
 * The residents' site with JavaScript, in Debian's chromium against a real embedded Herald. A resident whose
 * browser asks for Spanish reads the current alerts, opens one with its update, and sends a tip the officers
 * receive without the contact; signs up by email for two zones that "Find my zone" ticks from two mocked
 * locations, with quiet hours, confirmed with the code from the outbox; later changes the zones and ends the
 * subscription. In English, a refused form names the empty address and a wrong code's tries left beside the
 * field, and the pages are photographed for the docs. Every page is checked with axe (nothing serious or
 * critical) and at 320 px (nothing wider than the screen). The same journeys without JavaScript, in Catalan, are
 * in residents-site-nojs.test.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../functions/site/text/en';
import { es } from '../../functions/site/text/es';
import { type BrowserRig, startBrowserRig } from './harness';
import {
  emailsTo,
  IN_EIXAMPLE,
  IN_GRACIA,
  newCode,
  openTab,
  PageAudit,
  phoneScreenshot,
  publishWaterCut,
  subscriberOf,
  textOf,
  tickedZones,
  tipsOf,
  WATER_CUT,
  wrongCode,
  zonesAt,
} from './site-helpers';

const LUCIA = 'lucia.js@correo-js.example';
const JOAN = 'joan.en@refused-en.example';

describe("Residents' site with JavaScript", () => {
  let rig: BrowserRig;
  let alertId = '';
  /** The Spanish-speaking resident's tab: Accept-Language es-ES, and a location the test moves. */
  let spanish: Page;

  beforeAll(async () => {
    rig = await startBrowserRig();
    alertId = await publishWaterCut(rig.herald);
    spanish = await openTab(rig, {
      locale: 'es-ES',
      geolocation: IN_GRACIA,
      permissions: ['geolocation'],
    });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('reads the alerts in Spanish, opens one with its update, and sends a tip that reaches the officers without the contact', async () => {
    // Arrange
    const page = spanish;
    const audit = new PageAudit();

    // Act: the alerts page, in the language the browser asks for
    const response = await page.goto('/alerts');
    const lang = await page.locator('html').getAttribute('lang');
    await page.getByRole('heading', { level: 1, name: es.alerts.title, exact: true }).waitFor();
    const card = page.getByRole('link', { name: `ACTUALIZACIÓN: ${WATER_CUT.v2.es}`, exact: true });
    const map = page.getByRole('img', { name: es.alerts.mapTitle, exact: true });
    const areas = await textOf(page, 'figure.map figcaption');
    await audit.check(page, 'alerts (es)');

    // Assess
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-language']).toBe('es');
    expect(lang).toBe('es');
    expect(await card.count()).toBe(1);
    expect(await map.count()).toBe(1);
    expect(areas).toContain('Gracia');
    expect(areas).toContain(WATER_CUT.place);
    expect(await page.locator('nav.langs [aria-current="true"]').textContent()).toBe('Español');

    // Act: the alert
    await card.click();
    await page
      .getByRole('heading', { level: 1, name: `ACTUALIZACIÓN: ${WATER_CUT.v2.es}`, exact: true })
      .waitFor();
    const url = new URL(page.url());
    const thread = page.getByRole('region', { name: es.alert.thread, exact: true });
    const versions = (await thread.getByRole('listitem').allTextContents()).map((t) =>
      t.replace(/\s+/g, ' '),
    );
    const alertMap = page.getByRole('img', { name: es.alert.mapTitle, exact: true });
    const cap = page.getByRole('link', { name: es.alert.capLink, exact: true });
    await audit.check(page, 'alert (es)');

    // Assess: both versions, newest first; the map; the CAP
    expect(url.pathname).toBe(`/alerts/${alertId}`);
    expect(url.searchParams.get('lang')).toBe('es');
    expect(await page.locator('article.alert').getAttribute('lang')).toBe('es');
    expect(versions).toEqual([
      expect.stringMatching(new RegExp(`^Versión 2 · ACTUALIZACIÓN: ${WATER_CUT.v2.es}`)),
      expect.stringMatching(new RegExp(`^Versión 1 · ${WATER_CUT.v1.es}`)),
    ]);
    expect(await alertMap.count()).toBe(1);
    expect(await cap.getAttribute('href')).toBe(`/v1/alerts/${alertId}.cap`);

    // Act: a tip, with an email address to be answered at
    const tipText = 'He visto agua saliendo de una tapa en la calle Verdi, 12.';
    await page.getByLabel(es.tip.text, { exact: true }).fill(tipText);
    await page.getByRole('radio', { name: es.tip.email, exact: true }).check();
    await page.getByLabel(es.tip.address, { exact: true }).fill(LUCIA);
    await page.getByRole('button', { name: es.tip.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.tip.thanksTitle, exact: true }).waitFor();
    const notice = await textOf(page, '.notice');
    const reference = /T-[0-9A-Z]{4}/.exec(notice)?.[0] ?? '';
    await audit.check(page, 'tip thanks (es)');
    const tips = await tipsOf(rig.herald, alertId);

    // Assess: the reference said; the officers read the text, and an alias in place of the contact
    expect(notice).toBe(es.tip.thanks(reference));
    expect(tips).toHaveLength(1);
    expect(tips[0]).toMatchObject({
      reference,
      alertId,
      source: 'web',
      text: tipText,
      from: expect.stringMatching(/^Tipster [0-9A-Z]{4}$/),
      replyBy: 'email',
    });
    expect(JSON.stringify(tips[0])).not.toContain('correo-js');
    expect(JSON.stringify(tips[0])).not.toContain('lucia');
    expect(await page.getByRole('link', { name: es.tip.back, exact: true }).getAttribute('href')).toBe(
      `/alerts/${alertId}?lang=es`,
    );
    expect(audit.problems).toEqual([]);
  });

  it('signs up by email for two zones found from two mocked locations (the first kept through a refused send), with quiet hours 22:00–07:00, confirmed with the code from the outbox', async () => {
    // Arrange: the two points lie in one zone each
    const page = spanish;
    const audit = new PageAudit();
    expect([zonesAt(IN_GRACIA), zonesAt(IN_EIXAMPLE)]).toEqual([['gracia'], ['eixample']]);
    const status = page.locator('[data-find-zone-status]');
    const find = page.getByRole('button', { name: es.subscribe.findZone, exact: true });

    // Act: the sign-up form from the navigation; "Find my zone" at home
    await page.locator('nav.site').getByRole('link', { name: es.nav.subscribe, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.subscribe.title, exact: true }).waitFor();
    await find.waitFor();
    await audit.check(page, 'subscribe (es)');
    await page.getByRole('radio', { name: es.subscribe.email, exact: true }).check();
    await find.click();
    await status
      .getByText(es.subscribe.findZoneFound.replace('{zones}', 'Gracia'), { exact: true })
      .waitFor();
    const atHome = await tickedZones(page);

    // Act: sent without the address; then, elsewhere, "Find my zone" again on the page that says so
    await page.getByRole('button', { name: es.subscribe.send, exact: true }).click();
    await page.locator('.error-summary').waitFor();
    const refused = {
      summary: await page.locator('.error-summary').getByRole('listitem').allTextContents(),
      beside: await textOf(page, '#e-address'),
      zones: await tickedZones(page),
      channel: await page.getByRole('radio', { name: es.subscribe.email, exact: true }).isChecked(),
    };
    await audit.check(page, 'subscribe refused (es)');
    await page.context().setGeolocation(IN_EIXAMPLE);
    await find.click();
    await status
      .getByText(es.subscribe.findZoneFound.replace('{zones}', 'Ensanche'), { exact: true })
      .waitFor();
    const atWork = await tickedZones(page);
    const statusLive = await status.getAttribute('aria-live');

    // Assess: each location ticked its own zone; the refusal named the address and kept what was chosen
    expect(atHome).toEqual(['gracia']);
    expect(refused).toEqual({
      summary: [`${es.subscribe.address}: ${es.errors.address}`],
      beside: es.errors.address,
      zones: ['gracia'],
      channel: true,
    });
    expect(atWork).toEqual(['eixample', 'gracia']);
    expect(statusLive).toBe('polite');
    expect(await page.getByRole('checkbox', { name: 'Ensanche', exact: true }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Gracia', exact: true }).isChecked()).toBe(true);

    // Act: the address, quiet hours, and send
    expect(await page.getByLabel(es.subscribe.language, { exact: true }).inputValue()).toBe('es');
    await page.getByLabel(es.subscribe.address, { exact: true }).fill(LUCIA);
    await page.getByLabel(es.subscribe.quietFrom, { exact: true }).fill('22:00');
    await page.getByLabel(es.subscribe.quietTo, { exact: true }).fill('07:00');
    const before = await emailsTo(rig.herald, LUCIA);
    await page.getByRole('button', { name: es.subscribe.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.code.title, exact: true }).waitFor();
    const sentSays = await textOf(page, 'main');
    await audit.check(page, 'code (es)');
    const code = await newCode(rig.herald, LUCIA, before);
    const pending = await subscriberOf(rig.herald, LUCIA);

    // Assess: the code page names the address masked; nothing is confirmed yet
    expect(sentSays).toContain('l•••@c•••.example');
    expect(pending).toMatchObject({ status: 'pending', zones: ['eixample', 'gracia'] });

    // Act: the code
    await page.getByLabel(es.code.code, { exact: true }).fill(code);
    await page.getByRole('button', { name: es.code.confirm, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.confirmed.title, exact: true }).waitFor();
    const confirmed = await textOf(page, '.notice');
    await audit.check(page, 'confirmed (es)');
    const subscriber = await subscriberOf(rig.herald, LUCIA);

    // Assess: what the page says is what the officers' list holds
    expect(confirmed).toBe(
      `${es.confirmed.summary('Ensanche, Gracia')} ${es.confirmed.quiet('22:00', '07:00')}`,
    );
    expect(subscriber).toMatchObject({
      channel: 'email',
      status: 'confirmed',
      zones: ['eixample', 'gracia'],
      language: 'es',
      quietHours: { from: '22:00', to: '07:00' },
      consent: { method: 'web' },
    });
    expect(audit.problems).toEqual([]);
  });

  it('manages the subscription with a new code from the outbox: swaps a zone, then ends it', async () => {
    // Arrange
    const page = spanish;
    const audit = new PageAudit();
    await page.locator('nav.site').getByRole('link', { name: es.nav.manage, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.manage.title, exact: true }).waitFor();
    await audit.check(page, 'manage start (es)');

    // Act: the address, then the code sent to it
    await page.getByLabel(es.subscribe.address, { exact: true }).fill(LUCIA);
    const before = await emailsTo(rig.herald, LUCIA);
    await page.getByRole('button', { name: es.manage.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.code.title, exact: true }).waitFor();
    await page.getByLabel(es.code.code, { exact: true }).fill(await newCode(rig.herald, LUCIA, before));
    await page.getByRole('button', { name: es.code.confirm, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.manage.settingsTitle, exact: true }).waitFor();
    const settingsUrl = new URL(page.url());
    const cookies = await page.context().cookies();
    const shown = {
      address: await page.getByText(es.manage.subscribedAs('l•••@c•••.example'), { exact: true }).count(),
      zones: await tickedZones(page),
      from: await page.getByLabel(es.subscribe.quietFrom, { exact: true }).inputValue(),
      to: await page.getByLabel(es.subscribe.quietTo, { exact: true }).inputValue(),
    };
    await audit.check(page, 'manage settings (es)');

    // Assess: the settings as saved, in a session only the server can read
    expect(settingsUrl.pathname + settingsUrl.search).toBe('/manage?lang=es');
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'herald_manage', path: '/manage', httpOnly: true, sameSite: 'Strict' }),
    ]);
    expect(shown).toEqual({ address: 1, zones: ['eixample', 'gracia'], from: '22:00', to: '07:00' });

    // Act: Eixample out, Sarrià-Sant Gervasi in
    await page.getByRole('checkbox', { name: 'Ensanche', exact: true }).uncheck();
    await page.getByRole('checkbox', { name: 'Sarrià-Sant Gervasi', exact: true }).check();
    await page.getByRole('button', { name: es.manage.save, exact: true }).click();
    await page.locator('.notice').getByText(es.manage.saved, { exact: true }).waitFor();
    const savedZones = await tickedZones(page);
    await audit.check(page, 'manage saved (es)');
    const changed = await subscriberOf(rig.herald, LUCIA);

    // Assess
    expect(savedZones).toEqual(['sarria-sant-gervasi', 'gracia']);
    expect(changed).toMatchObject({ status: 'confirmed', quietHours: { from: '22:00', to: '07:00' } });
    expect([...(changed?.zones ?? [])].sort()).toEqual(['gracia', 'sarria-sant-gervasi']);

    // Act: end it
    await page.getByRole('button', { name: es.manage.end, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.manage.endTitle, exact: true }).waitFor();
    const ended = await textOf(page, '.notice');
    await audit.check(page, 'ended (es)');
    const stopped = await subscriberOf(rig.herald, LUCIA);
    await page.goto('/manage?lang=es');
    const afterwards = await page.getByRole('heading', { level: 1 }).textContent();

    // Assess: stopped, and the session closed with it
    expect(ended).toBe(es.manage.ended);
    expect(stopped?.status).toBe('stopped');
    expect(afterwards).toBe(es.manage.title);
    expect(await page.context().cookies()).toEqual([]);

    // Act: the privacy page
    await page.locator('nav.site').getByRole('link', { name: es.nav.privacy, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: es.privacy.title, exact: true }).waitFor();
    await audit.check(page, 'privacy (es)');

    // Assess
    expect(audit.problems).toEqual([]);
  });

  it('in English, a refused form says what is wrong beside the field: an empty address, a wrong code with its tries left', async () => {
    // Arrange: the rig's own tab speaks English; the pages it passes are photographed for the docs
    const { page, herald } = rig;
    const audit = new PageAudit();
    await page.context().grantPermissions(['geolocation'], { origin: herald.url });
    await page.context().setGeolocation(IN_GRACIA);
    await page.goto('/alerts');
    await page.getByRole('heading', { level: 1, name: en.alerts.title, exact: true }).waitFor();
    await audit.check(page, 'alerts (en)');
    await phoneScreenshot(page, 'site-alerts');
    await page.getByRole('link', { name: `UPDATE: ${WATER_CUT.v2.en}`, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `UPDATE: ${WATER_CUT.v2.en}`, exact: true }).waitFor();
    await audit.check(page, 'alert (en)');
    await phoneScreenshot(page, 'site-alert');
    await page.goto('/subscribe');
    await page.getByRole('radio', { name: en.subscribe.email, exact: true }).check();
    await page.getByRole('button', { name: en.subscribe.findZone, exact: true }).click();
    await page
      .locator('[data-find-zone-status]')
      .getByText(en.subscribe.findZoneFound.replace('{zones}', 'Gràcia'), { exact: true })
      .waitFor();
    await page.getByLabel(en.subscribe.quietFrom, { exact: true }).fill('22:00');
    await page.getByLabel(en.subscribe.quietTo, { exact: true }).fill('07:00');
    await audit.check(page, 'subscribe (en)');
    await phoneScreenshot(page, 'site-subscribe');
    const sentBefore = (await herald
      .call('GET', '/v1/sandbox/outbox?channel=email&limit=1000')
      .then((r) => r.json())) as { total: number };

    // Act: no address
    await page.getByRole('button', { name: en.subscribe.send, exact: true }).click();
    const summary = page.locator('.error-summary');
    await summary.waitFor();
    const address = page.getByLabel(en.subscribe.address, { exact: true });
    const refused = {
      summary: await summary.getByRole('listitem').allTextContents(),
      link: await summary.getByRole('link').first().getAttribute('href'),
      beside: await textOf(page, '#e-address'),
      invalid: await address.getAttribute('aria-invalid'),
      describedBy: await address.getAttribute('aria-describedby'),
      zones: await tickedZones(page),
      quiet: [
        await page.getByLabel(en.subscribe.quietFrom, { exact: true }).inputValue(),
        await page.getByLabel(en.subscribe.quietTo, { exact: true }).inputValue(),
      ],
      role: await summary.getAttribute('role'),
    };
    await audit.check(page, 'subscribe refused (en)');
    const sentAfter = (await herald
      .call('GET', '/v1/sandbox/outbox?channel=email&limit=1000')
      .then((r) => r.json())) as { total: number };

    // Assess: the address is named, in the summary and beside the field; what was chosen is kept; nothing sent
    expect(refused).toEqual({
      summary: [`${en.subscribe.address}: ${en.errors.address}`],
      link: '#f-address',
      beside: en.errors.address,
      invalid: 'true',
      describedBy: 'h-address e-address',
      zones: ['gracia'],
      quiet: ['22:00', '07:00'],
      role: 'alert',
    });
    expect(sentAfter.total).toBe(sentBefore.total);

    // Act: the address, then a wrong code
    await address.fill(JOAN);
    let before = await emailsTo(herald, JOAN);
    await page.getByRole('button', { name: en.subscribe.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: en.code.title, exact: true }).waitFor();
    const code = await newCode(herald, JOAN, before);
    const codeField = page.getByLabel(en.code.code, { exact: true });
    await codeField.fill(wrongCode(code));
    await page.getByRole('button', { name: en.code.confirm, exact: true }).click();
    await page.locator('#e-code').waitFor();
    const wrong = {
      beside: await textOf(page, '#e-code'),
      invalid: await codeField.getAttribute('aria-invalid'),
      describedBy: await codeField.getAttribute('aria-describedby'),
      pending: (await subscriberOf(herald, JOAN))?.status,
    };
    await audit.check(page, 'code refused (en)');

    // Assess: the tries left, beside the field; the subscription still waits
    expect(wrong).toEqual({
      beside: `${en.errors.code} ${en.errors.codeTries(4)}`,
      invalid: 'true',
      describedBy: 'e-code',
      pending: 'pending',
    });

    // Act: the right code, then manage with no address, then a wrong code there too
    await codeField.fill(code);
    await page.getByRole('button', { name: en.code.confirm, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: en.confirmed.title, exact: true }).waitFor();
    await page.goto('/manage');
    await audit.check(page, 'manage start (en)');
    await page.getByRole('button', { name: en.manage.send, exact: true }).click();
    await page.locator('#e-address').waitFor();
    const manageRefused = {
      beside: await textOf(page, '#e-address'),
      invalid: await page.getByLabel(en.subscribe.address, { exact: true }).getAttribute('aria-invalid'),
    };
    await audit.check(page, 'manage start refused (en)');
    await page.getByLabel(en.subscribe.address, { exact: true }).fill(JOAN);
    before = await emailsTo(herald, JOAN);
    await page.getByRole('button', { name: en.manage.send, exact: true }).click();
    const manageCode = await newCode(herald, JOAN, before);
    await page.getByLabel(en.code.code, { exact: true }).fill(wrongCode(manageCode));
    await page.getByRole('button', { name: en.code.confirm, exact: true }).click();
    await page.locator('#e-code').waitFor();
    const manageWrong = await textOf(page, '#e-code');
    await page.getByLabel(en.code.code, { exact: true }).fill(manageCode);
    await page.getByRole('button', { name: en.code.confirm, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: en.manage.settingsTitle, exact: true }).waitFor();
    await page.getByRole('button', { name: en.manage.save, exact: true }).click();
    await page.locator('.notice').getByText(en.manage.saved, { exact: true }).waitFor();
    await audit.check(page, 'manage saved (en)');
    await phoneScreenshot(page, 'site-manage');
    await page.goto('/privacy');
    await audit.check(page, 'privacy (en)');

    // Assess
    expect(manageRefused).toEqual({ beside: en.errors.address, invalid: 'true' });
    expect(manageWrong).toBe(`${en.errors.code} ${en.errors.codeTries(4)}`);
    expect(audit.problems).toEqual([]);
  });
});
