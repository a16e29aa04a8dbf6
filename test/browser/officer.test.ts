/**
 * The officer's journeys in the console, in Debian's chromium against a real embedded Herald: sign in, compose
 * from a template, preview every channel, confirm, send and watch it reach `sent`; update and cancel; a headline
 * carrying markup stays text in the console, the email preview and the feed; axe finds nothing serious; 360 px.
 */
import { parseAtomFeed } from 'feedsmith';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserRig,
  screenshot,
  scrollsSideways,
  seriousViolations,
  signIn,
  startBrowserRig,
} from './harness';

const MARKUP = '<img src=x onerror=alert(1)><b>bold</b>';

describe('Console: the officer', () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startBrowserRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('serves the console at / with a strict content security policy and cacheable hashed assets', async () => {
    // Act
    const index = await fetch(`${rig.herald.url}/`);
    const html = await index.text();
    const script = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const asset = await fetch(`${rig.herald.url}${script}`);

    // Assess
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('signs an officer in from the sign-in page, which axe finds no serious fault in', async () => {
    // Arrange
    const { page } = rig;
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
    await screenshot(page, 'console-sign-in');

    // Act
    const violations = await seriousViolations(page);
    await signIn(page, 'officer', 'Duty Officer 1');

    // Assess
    expect(violations).toEqual([]);
    await page.getByRole('heading', { name: 'Compose an alert' }).waitFor();
    // An officer is not offered what a supervisor does.
    expect(await page.getByRole('link', { name: 'Approvals' }).count()).toBe(0);
  });

  it('composes from a template, previews every channel with its budget, confirms and sees the alert sent', async () => {
    // Arrange
    const { page } = rig;
    await page.getByRole('button', { name: 'Road closure (race or event)' }).click();
    await page.getByLabel('Headline', { exact: true }).fill('City marathon closes Main Street on Sunday');
    await page
      .getByLabel('Description', { exact: true })
      .fill('Main Street is closed 08:00–14:00 for the marathon.');
    await page.getByLabel('Instruction (optional)').fill('Use Ring Road instead.');
    await page.getByRole('group', { name: /Zones/ }).getByLabel('Eixample').check();
    for (const channel of ['SMS', 'Email'])
      await page.getByRole('group', { name: 'Channels' }).getByLabel(channel).check();

    // Act: the preview follows the form
    await page.getByText('Preview up to date.').waitFor();
    const violationsCompose = await seriousViolations(page);
    await screenshot(page, 'console-compose-preview', { top: true });

    // Assess: each channel with its budget
    const preview = page.getByRole('region', { name: 'Preview per channel' });
    await expect(preview.getByText(/\d+ \/ 280 weighted characters/).textContent()).resolves.toMatch(/fits/);
    await preview.getByText(/(GSM-7|UCS-2) · \d+ characters · \d of at most 2 segments/).waitFor();
    await preview.getByText(/Time to reach the last SMS recipient/).waitFor();
    expect(await preview.getByRole('img', { name: /Alert card/ }).getAttribute('src')).toMatch(
      /^data:image\/jpeg;base64,/,
    );
    const frame = preview.locator('iframe.email-frame');
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(violationsCompose).toEqual([]);

    // Act: review, then send
    await page.getByRole('button', { name: 'Review and send' }).click();
    const confirm = page.getByRole('region', { name: 'Confirm: what will go where' });
    await confirm.waitFor();
    const violationsConfirm = await seriousViolations(page);
    const summary = await confirm.textContent();
    await confirm.getByRole('button', { name: 'Send alert' }).click();

    // Assess
    expect(summary).toContain('Eixample');
    expect(summary).toMatch(/X.*Facebook.*Instagram.*SMS.*Email/s);
    expect(violationsConfirm).toEqual([]);
    await page
      .getByRole('heading', { level: 1, name: 'City marathon closes Main Street on Sunday' })
      .waitFor();
    await page.locator('#alert-state').getByText('sent', { exact: true }).waitFor({ timeout: 20_000 });
    await page
      .getByRole('status')
      .getByText(/State: sent\. 3 sent, 0 failed, 0 in progress\./)
      .waitFor();
    // No credentials here: the social channels are sandboxed, and the page says so rather than just `sent`.
    await page
      .getByRole('status')
      .getByText(/3 of them sent by the sandbox: nothing reached the public\./)
      .waitFor();
    expect(await page.getByRole('table', { name: /receipts per channel/ }).textContent()).toMatch(
      /X sandbox.*1 \(sandbox\)/s,
    );
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'console-alert-status', { top: true });
  });

  it('updates the alert in one step, shown as the next version in the thread, then cancels it in one step', async () => {
    // Arrange
    const { page, herald } = rig;
    const id = /#\/alerts\/([0-9A-Z]{26})/.exec(page.url())![1]!;

    // Act: update
    await page.getByText('Update this alert').click();
    await page.locator('#u-headline').fill('City marathon: Main Street reopens at 13:00');
    await page.getByRole('button', { name: 'Send update' }).click();

    // Assess
    await page.getByRole('heading', { level: 3, name: 'Version 2: Update' }).waitFor();
    await page
      .getByRole('heading', { level: 1, name: 'City marathon: Main Street reopens at 13:00' })
      .waitFor();
    const v2 = (await (
      await herald.call('GET', `/v1/alerts/${id}/versions/2`, { role: 'auditor' })
    ).json()) as {
      headline: string;
      description: string;
      msgType: string;
    };
    expect(v2).toMatchObject({ msgType: 'Update', headline: 'City marathon: Main Street reopens at 13:00' });
    expect(v2.description).toBe('Main Street is closed 08:00–14:00 for the marathon.');

    // Act: cancel
    await page.getByLabel('Reason (optional)').fill('The race was called off.');
    await page.getByRole('button', { name: 'Cancel this alert' }).click();

    // Assess
    await page.getByRole('heading', { level: 3, name: 'Version 3: Cancel' }).waitFor();
    await page.locator('#alert-state').getByText('cancelled', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel this alert' }).count()).toBe(0);
    const alert = (await (await herald.call('GET', `/v1/alerts/${id}`, { role: 'auditor' })).json()) as {
      state: string;
      note: string;
    };
    expect(alert).toMatchObject({ state: 'cancelled', note: 'The race was called off.' });
  });

  it('keeps a headline carrying markup inert in the console, the email preview and the feed', async () => {
    // Arrange
    const { page, herald, dialogs } = rig;
    await page.goto('/#/compose');
    await page.getByRole('button', { name: 'Scam warning' }).click();
    await page.getByLabel('Headline', { exact: true }).fill(MARKUP);
    await page.getByLabel('Description', { exact: true }).fill(`Description with ${MARKUP}`);

    // Act: preview (email included by the template), then send
    await page.getByText('Preview up to date.').waitFor();
    const emailFrame = page.frameLocator('iframe.email-frame');
    const emailHeading = await emailFrame.locator('h1').textContent();
    const boldInEmail = await emailFrame.locator('b').count();
    await page.getByRole('button', { name: 'Review and send' }).click();
    await page.getByRole('button', { name: 'Send alert' }).click();
    await page.getByRole('heading', { level: 1, name: MARKUP }).waitFor();
    await page.locator('#alert-state').getByText('sent', { exact: true }).waitFor({ timeout: 20_000 });
    const feed = await (await fetch(`${herald.url}/v1/feed.atom`)).text();

    // Assess: the characters are shown, nothing made of them
    expect(emailHeading).toBe(MARKUP);
    expect(boldInEmail).toBe(0);
    expect(await page.locator('main b').count()).toBe(0);
    expect(await page.locator('main img[src="x"]').count()).toBe(0);
    expect(await page.getByText(`Description with ${MARKUP}`).count()).toBeGreaterThan(0);
    expect(feed).not.toContain('<img src=x');
    expect(feed).not.toContain('<b>bold</b>');
    const parsed = parseAtomFeed(feed);
    // A feed reader reads the title back as the very characters typed, a text construct, not markup.
    const titles = (parsed.entries ?? []).map((e) => e.title as unknown as { value: string; type: string });
    expect(titles).toContainEqual({ value: MARKUP, type: 'text' });
    expect(dialogs).toEqual([]);
  });

  it('fits a 360 px wide phone without sideways scrolling on compose and the alert page', async () => {
    // Arrange
    const { page } = rig;
    const alertUrl = page.url();
    await page.setViewportSize({ width: 360, height: 780 });

    // Act
    await page.goto('/#/compose');
    await page.getByRole('button', { name: 'Missing person' }).click();
    await page.getByText('Preview up to date.').waitFor();
    const composeScrolls = await scrollsSideways(page);
    await page.goto(alertUrl);
    await page.getByRole('heading', { level: 2, name: 'Versions' }).waitFor();
    const alertScrolls = await scrollsSideways(page);
    await page.goto('/#/alerts');
    await page.getByRole('table', { name: 'Alerts, newest first' }).waitFor();
    const listScrolls = await scrollsSideways(page);

    // Assess
    expect({ composeScrolls, alertScrolls, listScrolls }).toEqual({
      composeScrolls: false,
      alertScrolls: false,
      listScrolls: false,
    });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
