/**
 * More of the console in Debian's chromium against a real embedded Herald, one browser for the file: an alert
 * composed with a Spanish translation (previewed in Spanish, sent, both languages on the alert page), the sign-in
 * and approvals pages at 360 px without sideways scrolling, and the auditor paging through an SMS alert's 60
 * receipts, 50 at a time, the residents having joined by texting the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserRig, scrollsSideways, seriousViolations, signIn, startBrowserRig } from './harness';

const HEADLINE = 'Water supply cut in Ciutat Vella until 18:00';
const TITULAR = 'Corte de agua en Ciutat Vella hasta las 18:00';
const RESIDENTS = 60;

describe('Console: translations, small screens and paged receipts', () => {
  let rig: BrowserRig;
  let alertUrl = '';
  beforeAll(async () => {
    rig = await startBrowserRig();
    // Residents join by text, as they would from their phones: distinct numbers, one zone.
    for (let i = 0; i < RESIDENTS; i += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, RESIDENTS - i) }, async (_, j) => {
          const res = await rig.herald.call('POST', '/v1/sandbox/inbound/sms', {
            body: { from: `+34611${String(i + j).padStart(6, '0')}`, body: 'JOIN ciutat-vella' },
          });
          expect(await res.json()).toMatchObject({ keyword: 'join', subscriberId: expect.any(String) });
        }),
      );
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('fits the sign-in page on a 360 px wide phone without sideways scrolling', async () => {
    // Arrange
    const { page } = rig;
    await page.setViewportSize({ width: 360, height: 780 });

    // Act
    await page.goto('/');
    await page.evaluate('sessionStorage.clear()');
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
    const scrolls = await scrollsSideways(page);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Assess
    expect(scrolls).toBe(false);
  });

  it('composes with a Spanish translation, previews it in Spanish, sends, and shows both languages on the alert page', async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'officer', 'Duty Officer 1');
    await page.getByRole('button', { name: 'Road closure (race or event)' }).click();
    await page.getByLabel('Headline', { exact: true }).fill(HEADLINE);
    await page
      .getByLabel('Description', { exact: true })
      .fill('Works on the main pipe: no water until 18:00.');
    await page.getByLabel('Instruction (optional)').fill('Bottled water is handed out at the civic centre.');
    await page.getByRole('group', { name: /Zones/ }).getByLabel('Ciutat Vella').check();
    await page.getByRole('group', { name: 'Channels' }).getByLabel('SMS').check();
    await page.getByRole('button', { name: 'Add a language' }).click();
    const spanish = page.getByRole('group', { name: 'Translation 1' });
    await spanish.getByLabel('Language (BCP 47, e.g. es, ca)').fill('es');
    await spanish.getByLabel('Headline').fill(TITULAR);
    await spanish.getByLabel('Description').fill('Obras en la tubería principal: sin agua hasta las 18:00.');

    // Act: the preview in Spanish
    await page.getByText('Preview up to date.').waitFor();
    await page.getByLabel('Language shown').selectOption('es');
    const preview = page.getByRole('region', { name: 'Preview per channel' });
    await preview.getByText(TITULAR).first().waitFor();
    const previewText = await preview.textContent();
    const violationsCompose = await seriousViolations(page);

    // Act: review and send
    await page.getByRole('button', { name: 'Review and send' }).click();
    const confirm = page.getByRole('region', { name: 'Confirm: what will go where' });
    await confirm.waitFor();
    const summary = await confirm.textContent();
    await confirm.getByRole('button', { name: 'Send alert' }).click();
    await page.getByRole('heading', { level: 1, name: HEADLINE }).waitFor();
    alertUrl = page.url();
    const inSpanish = page.getByRole('region', { name: 'In es' });
    await inSpanish.getByText(TITULAR).waitFor();

    // Assess
    expect(previewText).not.toContain(HEADLINE);
    expect(violationsCompose).toEqual([]);
    expect(summary).toMatch(/Languages\s*en, es/);
    expect(await inSpanish.getAttribute('lang')).toBe('es');
    await inSpanish.getByText('Obras en la tubería principal: sin agua hasta las 18:00.').waitFor();
    await page.getByText('Works on the main pipe: no water until 18:00.').waitFor();
    expect(await page.locator('dl.facts').textContent()).toMatch(/Languagesen, es/);
    await page.locator('#alert-state').getByText('sent', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('will not review a template whose placeholders are left, and marks each field that still holds one', async () => {
    // Arrange
    const { page } = rig;
    await page.goto('/#/compose');
    await page.getByRole('button', { name: 'Missing person' }).click();
    await page.getByLabel('Headline', { exact: true }).fill('Missing: Ana Puig, 8, last seen in Gràcia');

    // Act
    await page.getByRole('button', { name: 'Review and send' }).click();

    // Assess: the description and instruction keep the template's [name], [age], [number]…
    const summary = page.getByRole('alert').filter({ hasText: 'template placeholder' });
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(/2 fields still hold a template placeholder/);
    expect(await page.getByLabel('Description', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Instruction (optional)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Headline', { exact: true }).getAttribute('aria-invalid')).not.toBe('true');
    expect(await page.getByRole('region', { name: 'Confirm: what will go where' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('fits the approvals page on a 360 px wide phone without sideways scrolling', async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'supervisor', 'Shift Supervisor 2');
    await page.setViewportSize({ width: 360, height: 780 });

    // Act
    await page.goto('/#/approvals');
    await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    const scrolls = await scrollsSideways(page);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Assess
    expect(scrolls).toBe(false);
  });

  it("pages the auditor through an SMS alert's receipts 50 at a time, recipients masked, each said to be the sandbox's", async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'auditor', 'Auditor 4');
    await page.goto(alertUrl);
    const filters = page.getByRole('form', { name: 'Receipt filters' });
    await filters.getByLabel('Channel').selectOption('sms');

    // Act
    await filters.getByRole('button', { name: 'Show receipts' }).click();
    await page
      .getByRole('status')
      .getByText(/^50 receipts shown/)
      .waitFor();
    const firstPage = await page
      .getByRole('table', { name: 'Receipts', exact: true })
      .locator('tbody tr')
      .count();
    const perChannel = await page.getByRole('table', { name: /receipts per channel/ }).textContent();
    const live = await page.locator('p.live').textContent();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page
      .getByRole('status')
      .getByText(new RegExp(`^${RESIDENTS} receipts shown`))
      .waitFor();
    const rows = await page
      .getByRole('table', { name: 'Receipts', exact: true })
      .locator('tbody tr')
      .allTextContents();

    // Assess
    expect(firstPage).toBe(50);
    expect(rows).toHaveLength(RESIDENTS);
    expect(await page.getByRole('button', { name: 'Next page' }).count()).toBe(0);
    expect(rows.every((r) => /^1SMS/.test(r))).toBe(true);
    expect(rows.join('\n')).not.toMatch(/\+34\d{9}/);
    // No SMS credentials here: every receipt, the channel's row and the summary say sandbox, not just sent
    expect(rows.every((r) => /sent sandbox/.test(r))).toBe(true);
    // ...and each names its subscriber by id beside the masked number
    expect(rows.every((r) => /\+34•+\d\d[0-9A-HJKMNP-TV-Z]{26}sent/.test(r))).toBe(true);
    expect(perChannel).toMatch(new RegExp(`SMS sandbox${RESIDENTS} \\(sandbox\\)`));
    // Every channel of this alert (SMS and the template's social ones) is the sandbox here: all of what was sent
    expect(live).toMatch(
      /(\d+) sent, 0 failed, 0 in progress\. \1 of them sent by the sandbox: nothing reached/,
    );
    expect(await seriousViolations(page)).toEqual([]);
    expect(new Set(rows.map((r) => r.split('SMS')[1]?.split(/sent|delivered/)[0])).size).toBeGreaterThan(1);
  });
});
