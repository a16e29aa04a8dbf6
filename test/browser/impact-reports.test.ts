/**
 * Issue 16 in the console, in Debian's chromium against a real embedded Herald: a supervisor opens an alert's impact
 * (its figures beside the receipts they come from, the delivery timeline as a chart with its table), the reports
 * page (charts, table, CSV), and an auditor verifies the audit trail. Each page has no serious or critical axe
 * violation and nothing on it is wider than a 360 px phone.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryReport } from '../../web/src/types';
import { DRAFT, settledDeliveries } from '../helpers/embedded';
import {
  type BrowserRig,
  screenshot,
  scrollsSideways,
  seriousViolations,
  signIn,
  startBrowserRig,
} from './harness';

const RESIDENTS = 12;
const HEADLINE = 'Missing: Pau, 9, last seen near the cathedral';

/** Anything in the page (charts, figures, tables' boxes) reaching past the viewport's right edge, by its tag. */
async function widerThanViewport(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('main figure, main svg, main .table-wrap, main form, main dl, main p')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) out.push(el.tagName + '.' + el.getAttribute('class') + ' ' + Math.round(r.right));
    }
    return out;
  })()`)) as string[];
}

async function atPhoneWidth<T>(page: Page, look: () => Promise<T>): Promise<T> {
  await page.setViewportSize({ width: 360, height: 780 });
  try {
    return await look();
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

describe('Console: impact, reports and the audit trail', () => {
  let rig: BrowserRig;
  let alertId = '';
  let receipts: DeliveryReport;

  beforeAll(async () => {
    rig = await startBrowserRig();
    const { herald } = rig;
    for (let i = 0; i < RESIDENTS; i++) {
      const res = await herald.call('POST', '/v1/sandbox/inbound/sms', {
        body: { from: `+34622${String(i).padStart(6, '0')}`, body: 'JOIN ciutat-vella' },
      });
      expect(res.status).toBe(200);
    }
    const created = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: {
        ...DRAFT,
        category: 'Rescue',
        event: 'Missing person',
        urgency: 'Immediate',
        severity: 'Severe',
        headline: HEADLINE,
        description: 'Red jacket, blue trainers. Call 112 if you see him.',
        areas: [{ zone: 'ciutat-vella' }],
        channels: ['x', 'facebook', 'sms'],
      },
    });
    expect(created.status).toBe(201);
    alertId = ((await created.json()) as { id: string }).id;
    receipts = await settledDeliveries(herald, alertId, RESIDENTS + 2);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('shows an alert’s impact per channel as the receipts count it, with the delivery timeline as a chart and a table', async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'supervisor', 'Shift Supervisor 2');

    // Act
    await page.goto(`/#/alerts/${alertId}`);
    const impact = page.getByRole('region', { name: 'Impact' });
    const perChannel = impact.getByRole('table', { name: 'Per channel', exact: true });
    await perChannel.waitFor();
    const smsRow = (
      await perChannel.getByRole('row', { name: /^SMS/ }).getByRole('cell').allTextContents()
    ).map((c) => c.trim());
    const timeline = impact.getByRole('figure', { name: 'Messages sent so far, per channel' });
    await timeline.waitFor();
    const drawing = timeline.getByRole('img');
    const drawingName = await drawing.getAttribute('aria-label');
    const points = await timeline.getByRole('table').locator('tbody tr').allTextContents();
    // Each row: time after the first send, clock time, what (a channel, or the estimate), sent so far.
    const timelineRows = await timeline
      .getByRole('table')
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').trim())));
    const smsPoints = timelineRows.filter((r) => r[2] === 'SMS').map((r) => Number(r[3]!.replace(/,/g, '')));
    const estimateRows = timelineRows.filter((r) => r[2]!.startsWith('Estimate:'));
    const detailsOpen = await timeline.locator('details').getAttribute('open');
    const reach = impact.getByRole('figure', { name: 'Reach per channel' });
    await reach.waitFor();
    const violations = await seriousViolations(page);
    await screenshot(page, 'console-impact', { fullPage: true });
    const drawnAt = () =>
      page.evaluate(
        `[...document.querySelectorAll('figure.chart svg')].map((s) => s.viewBox.baseVal.width)`,
      ) as Promise<number[]>;
    const wideDrawings = await drawnAt();
    // The phone is turned, not reloaded: each chart draws itself again at its new width.
    const [wide, scrolls, phoneViolations] = await atPhoneWidth(page, async () => {
      await page.waitForFunction(
        `[...document.querySelectorAll('figure.chart svg')].every((s) => s.viewBox.baseVal.width <= 360)`,
      );
      await screenshot(page, 'console-impact-phone', { fullPage: true });
      return [
        await widerThanViewport(page),
        await scrollsSideways(page),
        await seriousViolations(page),
      ] as const;
    });

    // Assess: the SMS row counts what the receipts say went out
    const sms = receipts.deliveries.filter((d) => d.channel === 'sms');
    const smsOut = sms.filter((d) => d.status === 'sent' || d.status === 'delivered').length;
    expect(smsRow[0]).toBe('SMS');
    expect(Number(smsRow[1]!.replace(/,/g, ''))).toBe(RESIDENTS);
    expect(Number(smsRow[2]!.replace(/,/g, ''))).toBe(smsOut);
    // The chart's table ends where the SMS row does: cumulative, so its last SMS point is everything sent.
    expect(points.length).toBeGreaterThan(0);
    expect(Math.max(...smsPoints)).toBe(smsOut);
    // The SMS went out, so the preview's estimate of its last recipient is drawn, and listed in the table.
    expect(estimateRows).toEqual([
      [expect.any(String), expect.any(String), 'Estimate: last SMS recipient', ''],
    ]);
    expect(drawingName).toMatch(/^Messages sent so far, per channel\. /);
    expect(drawingName).toContain(`SMS: ${smsOut} sent`);
    expect(detailsOpen).not.toBeNull();
    expect(wideDrawings).toHaveLength(3);
    for (const w of wideDrawings) expect(w).toBeGreaterThan(360);
    expect(violations).toEqual([]);
    expect(phoneViolations).toEqual([]);
    expect(wide).toEqual([]);
    expect(scrolls).toBe(false);
  });

  it('shows reports over this month with charts, the table and a CSV download, for a supervisor', async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'supervisor', 'Shift Supervisor 2');

    // Act
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await page.getByLabel('Period', { exact: true }).selectOption('month');
    await page.getByRole('button', { name: 'Show report' }).click();
    const sentChart = page.getByRole('figure', { name: /^Alerts sent per month/ });
    await sentChart.waitFor();
    const subscribersChart = page.getByRole('figure', { name: /^Subscribers gained and lost per month/ });
    await subscribersChart.waitFor();
    const table = page.getByRole('table', { name: /^Per month and zone/ });
    const zoneRow = (
      await table
        .getByRole('row', { name: /Ciutat Vella|ciutat-vella/ })
        .last()
        .getByRole('cell')
        .allTextContents()
    ).map((c) => c.trim());
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV (all zones)' }).click(),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    const violations = await seriousViolations(page);
    await screenshot(page, 'console-reports', { fullPage: true });
    await page.getByLabel('Zone', { exact: true }).selectOption({ label: 'Ciutat Vella' });
    await page.getByRole('button', { name: 'Show report' }).click();
    await page.getByRole('figure', { name: /^Alerts sent per month in Ciutat Vella/ }).waitFor();
    const [wide, scrolls, phoneViolations] = await atPhoneWidth(page, async () => {
      await page.reload();
      await page
        .getByRole('figure', { name: /^Subscribers gained and lost per month in Ciutat Vella/ })
        .waitFor();
      await screenshot(page, 'console-reports-phone', { fullPage: true });
      return [
        await widerThanViewport(page),
        await scrollsSideways(page),
        await seriousViolations(page),
      ] as const;
    });

    // Assess: the alert and the residents who joined this month are counted for the zone
    expect(zoneRow[2]).toBe('1');
    expect(Number(zoneRow[7]!.replace(/,/g, ''))).toBe(RESIDENTS);
    expect(download.suggestedFilename()).toMatch(
      /^herald-report-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}-month\.csv$/,
    );
    expect(csv.split(/\r?\n/)[0]).toMatch(/period/i);
    expect(csv).toMatch(/ciutat-vella|Ciutat Vella/);
    expect(violations).toEqual([]);
    expect(phoneViolations).toEqual([]);
    expect(wide).toEqual([]);
    expect(scrolls).toBe(false);
  });

  it('lets an auditor verify the audit trail, and offers it to no supervisor', async () => {
    // Arrange
    const { page } = rig;
    const nav = page.getByRole('navigation', { name: 'Main' });
    await signIn(page, 'supervisor', 'Shift Supervisor 2');
    const supervisorSees = await nav.getByRole('link', { name: 'Audit trail' }).count();
    await signIn(page, 'auditor', 'Internal Auditor');

    // Act
    await nav.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
    const verdict = page.locator('#verify-verdict');
    await verdict.waitFor();
    await page.getByRole('button', { name: 'Verify now' }).click();
    await page
      .getByRole('status')
      .getByText(/^Audit trail (intact|broken)/)
      .waitFor();
    const said = (await verdict.textContent()) ?? '';
    const violations = await seriousViolations(page);
    await screenshot(page, 'console-audit-verify');
    const [wide, scrolls] = await atPhoneWidth(page, async () => [
      await widerThanViewport(page),
      await scrollsSideways(page),
    ]);

    // Assess: nothing was edited behind Herald's back, and every entry was read
    expect(supervisorSees).toBe(0);
    expect(said).toMatch(/^Intact\. [\d,]+ entries checked: none changed, none missing\.$/);
    expect(Number(said.match(/([\d,]+) entries/)![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    expect(wide).toEqual([]);
    expect(scrolls).toBe(false);
  });
});
