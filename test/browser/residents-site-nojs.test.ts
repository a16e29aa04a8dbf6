/**
 * The residents' site without JavaScript, in Debian's chromium against a real embedded Herald: the journeys of
 * residents-site.test.ts with scripts disabled, in Catalan chosen from the language switcher. The resident reads
 * the current alerts, opens one with its update and sends a tip with no contact; signs up by email for two zones
 * ticked by hand ("Find my zone" stays hidden: it would do nothing), with quiet hours, confirmed with the code from
 * the outbox; later opens the subscription with a code (a wrong one first: the tries left are said beside the
 * field), swaps a zone and ends it. Every page is checked with axe and at 320 px.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ca } from '../../functions/site/text/ca';
import { type BrowserRig, startBrowserRig } from './harness';
import {
  emailsTo,
  newCode,
  openTab,
  PageAudit,
  publishWaterCut,
  subscriberOf,
  textOf,
  tickedZones,
  tipsOf,
  WATER_CUT,
  wrongCode,
} from './site-helpers';

const PAU = 'nojs.pau@sense-js.example';
const PAU_MASKED = 'n•••@s•••.example';

describe("Residents' site without JavaScript", () => {
  let rig: BrowserRig;
  let alertId = '';
  /** The resident's tab: scripts disabled, the browser's language English (Catalan is chosen on the site). */
  let page: Page;
  /** Where axe runs on a copy of each page (see PageAudit): the rig's own tab, which has JavaScript. */
  const audit = () => new PageAudit({ axeIn: rig.page });

  beforeAll(async () => {
    rig = await startBrowserRig();
    alertId = await publishWaterCut(rig.herald);
    page = await openTab(rig, { javaScriptEnabled: false });
    await rig.page.goto('/privacy');
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('reads the alerts in Catalan chosen from the language switcher, opens one with its update, and sends a tip with no contact', async () => {
    // Arrange
    const pages = audit();
    await page.goto('/alerts');
    const asked = await page.locator('html').getAttribute('lang');

    // Act: Català from the switcher
    await page.locator('nav.langs').getByRole('link', { name: 'Català', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.alerts.title, exact: true }).waitFor();
    const url = new URL(page.url());
    const lang = await page.locator('html').getAttribute('lang');
    const areas = await textOf(page, 'figure.map figcaption');
    await pages.check(page, 'alerts (ca)');

    // Assess: English as the browser asked, then Catalan, which the address keeps
    expect(asked).toBe('en');
    expect(url.pathname + url.search).toBe('/alerts?lang=ca');
    expect(lang).toBe('ca');
    expect(areas).toContain('Gràcia');
    expect(areas).toContain(WATER_CUT.place);
    expect(await page.getByRole('img', { name: ca.alerts.mapTitle, exact: true }).count()).toBe(1);

    // Act: the alert
    await page.getByRole('link', { name: `ACTUALITZACIÓ: ${WATER_CUT.v2.ca}`, exact: true }).click();
    await page
      .getByRole('heading', { level: 1, name: `ACTUALITZACIÓ: ${WATER_CUT.v2.ca}`, exact: true })
      .waitFor();
    const thread = page.getByRole('region', { name: ca.alert.thread, exact: true });
    const versions = (await thread.getByRole('listitem').allTextContents()).map((t) =>
      t.replace(/\s+/g, ' '),
    );
    await pages.check(page, 'alert (ca)');

    // Assess: the Catalan text, both versions newest first
    expect(new URL(page.url()).pathname).toBe(`/alerts/${alertId}`);
    expect(await page.locator('article.alert').getAttribute('lang')).toBe('ca');
    expect(versions).toEqual([
      expect.stringMatching(new RegExp(`^${ca.alert.version(2)} · ACTUALITZACIÓ: ${WATER_CUT.v2.ca}`)),
      expect.stringMatching(new RegExp(`^${ca.alert.version(1)} · ${WATER_CUT.v1.ca}`)),
    ]);

    // Act: a tip, no answer wanted (the form's default)
    const noAnswer = await page.getByRole('radio', { name: ca.tip.none, exact: true }).isChecked();
    const tipText = "Hi ha un cotxe aparcat damunt la tapa de l'aigua al carrer del Sol.";
    await page.getByLabel(ca.tip.text, { exact: true }).fill(tipText);
    await page.getByRole('button', { name: ca.tip.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.tip.thanksTitle, exact: true }).waitFor();
    const notice = await textOf(page, '.notice');
    const reference = /T-[0-9A-Z]{4}/.exec(notice)?.[0] ?? '';
    await pages.check(page, 'tip thanks (ca)');
    const tips = await tipsOf(rig.herald, alertId);

    // Assess
    expect(noAnswer).toBe(true);
    expect(notice).toBe(ca.tip.thanks(reference));
    expect(tips).toHaveLength(1);
    expect(tips[0]).toMatchObject({ reference, alertId, text: tipText, from: 'Anonymous' });
    expect(tips[0]?.replyBy).toBeUndefined();
    expect(pages.problems).toEqual([]);
  });

  it('signs up by email for two zones ticked by hand, with quiet hours 22:00–07:00, after an empty form is refused; "Find my zone" stays hidden', async () => {
    // Arrange
    const pages = audit();

    // Act: the form, as it comes
    await page.locator('nav.site').getByRole('link', { name: ca.nav.subscribe, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.subscribe.title, exact: true }).waitFor();
    const find = page.locator('[data-find-zone]');
    const findZone = {
      inPage: await find.count(),
      visible: await find.isVisible(),
      noteVisible: await page.locator('[data-find-zone-note]').isVisible(),
      language: await page.getByLabel(ca.subscribe.language, { exact: true }).inputValue(),
    };
    await pages.check(page, 'subscribe (ca)');

    // Act: sent empty
    await page.getByRole('button', { name: ca.subscribe.send, exact: true }).click();
    await page.locator('.error-summary').waitFor();
    const refused = {
      summary: await page.locator('.error-summary').getByRole('listitem').allTextContents(),
      address: await textOf(page, '#e-address'),
      zones: await textOf(page, '#e-zones'),
      addressInvalid: await page
        .getByLabel(ca.subscribe.address, { exact: true })
        .getAttribute('aria-invalid'),
      zonesDescribedBy: await page
        .getByRole('group', { name: ca.subscribe.zones, exact: true })
        .getAttribute('aria-describedby'),
    };
    await pages.check(page, 'subscribe refused (ca)');

    // Assess: both named, in the summary and beside their fields
    expect(refused).toEqual({
      summary: [`${ca.subscribe.address}: ${ca.errors.address}`, `${ca.subscribe.zones}: ${ca.errors.zones}`],
      address: ca.errors.address,
      zones: ca.errors.zones,
      addressInvalid: 'true',
      zonesDescribedBy: 'h-zones e-zones',
    });

    // Act: put right
    await page.getByRole('radio', { name: ca.subscribe.email, exact: true }).check();
    await page.getByLabel(ca.subscribe.address, { exact: true }).fill(PAU);
    await page.getByRole('checkbox', { name: 'Gràcia', exact: true }).check();
    await page.getByRole('checkbox', { name: 'Eixample', exact: true }).check();
    await page.getByLabel(ca.subscribe.quietFrom, { exact: true }).fill('22:00');
    await page.getByLabel(ca.subscribe.quietTo, { exact: true }).fill('07:00');
    const before = await emailsTo(rig.herald, PAU);
    await page.getByRole('button', { name: ca.subscribe.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.code.title, exact: true }).waitFor();
    const sentSays = await textOf(page, 'main');
    await pages.check(page, 'code (ca)');
    await page.getByLabel(ca.code.code, { exact: true }).fill(await newCode(rig.herald, PAU, before));
    await page.getByRole('button', { name: ca.code.confirm, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.confirmed.title, exact: true }).waitFor();
    const confirmed = await textOf(page, '.notice');
    await pages.check(page, 'confirmed (ca)');
    const subscriber = await subscriberOf(rig.herald, PAU);

    // Assess: the button is in the page but hidden; the rest as with JavaScript
    expect(findZone).toEqual({ inPage: 1, visible: false, noteVisible: false, language: 'ca' });
    expect(sentSays).toContain(PAU_MASKED);
    expect(confirmed).toBe(
      `${ca.confirmed.summary('Eixample, Gràcia')} ${ca.confirmed.quiet('22:00', '07:00')}`,
    );
    expect(subscriber).toMatchObject({
      channel: 'email',
      status: 'confirmed',
      zones: ['eixample', 'gracia'],
      language: 'ca',
      quietHours: { from: '22:00', to: '07:00' },
      consent: { method: 'web' },
    });
    expect(pages.problems).toEqual([]);
  });

  it('opens the subscription with a code (a wrong one first, its tries left said beside the field), swaps a zone, then ends it', async () => {
    // Arrange
    const pages = audit();
    await page.locator('nav.site').getByRole('link', { name: ca.nav.manage, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.manage.title, exact: true }).waitFor();
    await pages.check(page, 'manage start (ca)');
    await page.getByLabel(ca.subscribe.address, { exact: true }).fill(PAU);
    const before = await emailsTo(rig.herald, PAU);
    await page.getByRole('button', { name: ca.manage.send, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.code.title, exact: true }).waitFor();
    const code = await newCode(rig.herald, PAU, before);
    const codeField = page.getByLabel(ca.code.code, { exact: true });

    // Act: a wrong code
    await codeField.fill(wrongCode(code));
    await page.getByRole('button', { name: ca.code.confirm, exact: true }).click();
    await page.locator('#e-code').waitFor();
    const wrong = {
      summary: await page.locator('.error-summary').getByRole('listitem').allTextContents(),
      beside: await textOf(page, '#e-code'),
      invalid: await codeField.getAttribute('aria-invalid'),
    };
    await pages.check(page, 'code refused (ca)');

    // Assess
    expect(wrong).toEqual({
      summary: [`${ca.code.code}: ${ca.errors.code} ${ca.errors.codeTries(4)}`],
      beside: `${ca.errors.code} ${ca.errors.codeTries(4)}`,
      invalid: 'true',
    });

    // Act: the right code
    await codeField.fill(code);
    await page.getByRole('button', { name: ca.code.confirm, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.manage.settingsTitle, exact: true }).waitFor();
    const shown = {
      address: await page.getByText(ca.manage.subscribedAs(PAU_MASKED), { exact: true }).count(),
      zones: await tickedZones(page),
      from: await page.getByLabel(ca.subscribe.quietFrom, { exact: true }).inputValue(),
      to: await page.getByLabel(ca.subscribe.quietTo, { exact: true }).inputValue(),
      findZone: await page.locator('[data-find-zone]').isVisible(),
    };
    await pages.check(page, 'manage settings (ca)');

    // Assess
    expect(shown).toEqual({
      address: 1,
      zones: ['eixample', 'gracia'],
      from: '22:00',
      to: '07:00',
      findZone: false,
    });

    // Act: Eixample out, Sant Andreu in
    await page.getByRole('checkbox', { name: 'Eixample', exact: true }).uncheck();
    await page.getByRole('checkbox', { name: 'Sant Andreu', exact: true }).check();
    await page.getByRole('button', { name: ca.manage.save, exact: true }).click();
    await page.locator('.notice').getByText(ca.manage.saved, { exact: true }).waitFor();
    const savedZones = await tickedZones(page);
    await pages.check(page, 'manage saved (ca)');
    const changed = await subscriberOf(rig.herald, PAU);

    // Assess
    expect(savedZones).toEqual(['gracia', 'sant-andreu']);
    expect(changed).toMatchObject({ status: 'confirmed', quietHours: { from: '22:00', to: '07:00' } });
    expect([...(changed?.zones ?? [])].sort()).toEqual(['gracia', 'sant-andreu']);

    // Act: end it
    await page.getByRole('button', { name: ca.manage.end, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.manage.endTitle, exact: true }).waitFor();
    const ended = await textOf(page, '.notice');
    await pages.check(page, 'ended (ca)');
    const stopped = await subscriberOf(rig.herald, PAU);
    await page.goto('/manage?lang=ca');
    const afterwards = await page.getByRole('heading', { level: 1 }).textContent();
    await page.locator('nav.site').getByRole('link', { name: ca.nav.privacy, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: ca.privacy.title, exact: true }).waitFor();
    await pages.check(page, 'privacy (ca)');

    // Assess: stopped, and the session closed with it
    expect(ended).toBe(ca.manage.ended);
    expect(stopped?.status).toBe('stopped');
    expect(afterwards).toBe(ca.manage.title);
    expect(await page.context().cookies()).toEqual([]);
    expect(pages.problems).toEqual([]);
  });
});
