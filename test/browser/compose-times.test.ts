/**
 * An officer gives an alert its CAP times in the console, in Debian's chromium against a real embedded Herald whose
 * clock is Europe/Madrid while the browser's is Los Angeles: the times typed are read on the agency's clock, the
 * preview and the confirmation say them as residents will read them, a wrong order is shown beside the field it
 * concerns, and axe finds nothing serious.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../schemas/alert';
import { type BrowserRig, seriousViolations, signIn, startBrowserRig } from './harness';

describe('Console: CAP times in compose', () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startBrowserRig({
      env: { HERALD_TIME_ZONE: 'Europe/Madrid' },
      timezoneId: 'America/Los_Angeles',
    });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("reads the times on the agency's clock, previews them as residents read them, and sends them", async () => {
    // Arrange
    const { page, herald } = rig;
    await signIn(page, 'officer', 'Duty Officer 7');
    await page.getByRole('button', { name: 'Road closure (race or event)' }).click();
    await page.getByLabel('Headline', { exact: true }).fill('Marathon closes Main Street on Friday');
    await page.getByLabel('Description', { exact: true }).fill('Main Street is closed for the marathon.');
    await page.getByLabel('Instruction (optional)').fill('Use Ring Road instead.');
    const times = page.getByRole('group', { name: 'Times' });
    await times.getByText('Times are on the agency’s clock: Europe/Madrid.').waitFor();

    // Act: an expiry before the onset
    await times.getByLabel('Onset (optional)').fill('2030-12-06T08:00');
    await times.getByLabel('Expires (optional)').fill('2030-12-06T07:00');

    // Assess: said beside the field, tied to it
    const expires = times.getByLabel('Expires (optional)');
    await page
      .locator('#f-expires-error')
      .getByText(/must be after onset/)
      .waitFor();
    expect(await expires.getAttribute('aria-invalid')).toBe('true');
    expect(await expires.getAttribute('aria-describedby')).toContain('f-expires-error');
    expect(await expires.getAttribute('aria-describedby')).toContain('f-times-zone');

    // Act: put right
    await expires.fill('2030-12-06T14:00');
    await page.getByText('Preview up to date.').waitFor();
    const violations = await seriousViolations(page);

    // Assess: the preview says them as residents will read them
    const preview = page.getByRole('region', { name: 'Preview per channel' });
    const said = (await preview.getByText(/^Residents read the times as:/).textContent())?.replace(
      /\s/g,
      ' ',
    );
    expect(said).toBe('Residents read the times as: Fri, Dec 6, 08:00 – 14:00 (Europe/Madrid).');
    expect(await expires.getAttribute('aria-invalid')).toBeNull();
    expect(violations).toEqual([]);

    // Act: review and send
    await page.getByRole('button', { name: 'Review and send' }).click();
    const confirm = page.getByRole('region', { name: 'Confirm: what will go where' });
    await confirm.waitFor();
    const summary = (await confirm.textContent())?.replace(/\s/g, ' ');
    await confirm.getByRole('button', { name: 'Send alert' }).click();
    await page.getByRole('heading', { level: 1, name: 'Marathon closes Main Street on Friday' }).waitFor();
    const id = /#\/alerts\/([0-9A-Z]{26})/.exec(page.url())![1]!;
    const alert = (await (await herald.call('GET', `/v1/alerts/${id}`, { role: 'auditor' })).json()) as Alert;

    // Assess: 08:00 in Madrid, not in Los Angeles
    expect(summary).toContain('WhenFri, Dec 6, 08:00 – 14:00 (Europe/Madrid)');
    expect(alert).toMatchObject({ onset: '2030-12-06T08:00:00+01:00', expires: '2030-12-06T14:00:00+01:00' });
    expect(alert.effective).toBeUndefined();
  });
});
