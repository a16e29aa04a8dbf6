/**
 * An officer schedules an event's timeline from the console, in Debian's chromium against a real embedded Herald
 * whose clock is Europe/Madrid while the browser's is Los Angeles: an alert scheduled from compose (a time in the
 * past refused beside its field), a live alert given two later steps, both seen on its timeline and in the Scheduled
 * day list, one edited and one removed (both still listed, said to be replaced and withdrawn). Every step is days
 * ahead, so nothing goes out during the test. axe finds nothing serious on each view, and nothing scrolls sideways
 * at 320 px.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../schemas/alert';
import { wallClockToIso } from '../../web/src/wall-clock';
import {
  type BrowserRig,
  screenshot,
  scrollsSideways,
  seriousViolations,
  signIn,
  startBrowserRig,
} from './harness';

const AGENCY_ZONE = 'Europe/Madrid';
const DAY_MS = 24 * 60 * 60 * 1000;

/** The agency's date `days` from now, as a `datetime-local` date (YYYY-MM-DD). */
function agencyDate(days: number): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: AGENCY_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(Date.now() + days * DAY_MS));
}

/** The agency's clock `seconds` from now, as a `datetime-local` value with its seconds. */
function agencyClockIn(seconds: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: AGENCY_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(Date.now() + seconds * 1000));
  const part = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}

/** "Sunday 6 December": how a day is named on the agency's clock (a year may follow). */
function dayName(date: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: AGENCY_ZONE,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
  }).format(new Date(wallClockToIso(`${date}T12:00`, AGENCY_ZONE)!));
}

/** The instant `time` names on the agency's clock on `date`, as the API gives it back (UTC). */
const instant = (date: string, time: string) =>
  new Date(wallClockToIso(`${date}T${time}`, AGENCY_ZONE)!).toISOString();

/** `text` as a regular expression matching it literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function fillAlert(page: Page, headline: string): Promise<void> {
  await page.getByRole('button', { name: 'Road closure (race or event)' }).click();
  await page.getByLabel('Headline', { exact: true }).fill(headline);
  await page.getByLabel('Description', { exact: true }).fill('Main Street is closed for the marathon.');
  await page.getByLabel('Instruction (optional)').fill('Use Ring Road instead.');
}

async function fitsAt320(page: Page, waitFor: () => Promise<void>): Promise<boolean> {
  await page.setViewportSize({ width: 320, height: 780 });
  await waitFor();
  const scrolls = await scrollsSideways(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  return scrolls;
}

describe('Console: scheduled alerts and timelines', () => {
  let rig: BrowserRig;
  const scheduledDay = agencyDate(2);
  const stepsDay = agencyDate(3);
  let timelineAlertId = '';

  beforeAll(async () => {
    rig = await startBrowserRig({
      env: { HERALD_TIME_ZONE: AGENCY_ZONE },
      timezoneId: 'America/Los_Angeles',
    });
    await signIn(rig.page, 'officer', 'Duty Officer 7');
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("schedules an alert from compose on the agency's clock; a missing or past time is refused beside its field", async () => {
    // Arrange
    const { page, herald } = rig;
    await fillAlert(page, 'Marathon closes Main Street on Sunday');
    const when = page.getByRole('group', { name: 'When it goes out' });
    await when.getByLabel('Schedule for a date and time').check();
    const at = when.getByLabel(`Date and time (${AGENCY_ZONE} time)`);

    // Act: no time yet
    await page.getByRole('button', { name: 'Review and send' }).click();

    // Assess: said beside the field before anything is sent
    await page
      .locator('#f-publishAt-error')
      .getByText('give the date and time it goes out, or choose “Send now”')
      .waitFor();
    expect(await page.getByRole('region', { name: 'Confirm: what will go where' }).count()).toBe(0);

    // Act: a time already past
    await at.fill(`${agencyDate(-1)}T09:00`);
    await page.getByRole('button', { name: 'Review and send' }).click();

    // Assess: refused by the API's preview, before anything can be sent, said beside the field and tied to it
    await page
      .locator('#f-publishAt-error')
      .getByText(/is in the past/)
      .waitFor();
    expect(await page.getByRole('region', { name: 'Confirm: what will go where' }).count()).toBe(0);
    expect(await at.getAttribute('aria-invalid')).toBe('true');
    expect(await at.getAttribute('aria-describedby')).toContain('f-publishAt-error');

    // Act: put right
    await at.fill(`${scheduledDay}T09:00`);
    const preview = page.getByRole('region', { name: 'Preview per channel' });
    const said = preview.locator('#preview-goes-out');
    await said.getByText(`${dayName(scheduledDay)}`, { exact: false }).waitFor();
    const previewSaid = await said.textContent();
    const violationsCompose = await seriousViolations(page);
    const composeScrolls = await fitsAt320(page, () => when.waitFor());
    await page.getByRole('button', { name: 'Review and send' }).click();
    const confirm = page.getByRole('region', { name: 'Confirm: what will go where' });
    await confirm.waitFor();
    const confirmed = (await confirm.textContent())?.replace(/\s/g, ' ');
    await confirm.getByRole('button', { name: 'Schedule alert' }).click();
    await page.getByRole('heading', { level: 1, name: 'Marathon closes Main Street on Sunday' }).waitFor();
    await page.locator('#alert-state').getByText('scheduled', { exact: true }).waitFor();
    const id = /#\/alerts\/([0-9A-Z]{26})/.exec(page.url())![1]!;
    const alert = (await (await herald.call('GET', `/v1/alerts/${id}`, { role: 'auditor' })).json()) as Alert;

    // Assess: 09:00 in Madrid, not in Los Angeles, said so before it is sent
    expect(previewSaid).toMatch(
      new RegExp(
        `^Scheduled: goes out on ${literal(dayName(scheduledDay))}.* at 09:00 \\(Europe/Madrid time\\)`,
      ),
    );
    expect(confirmed).toContain(`Goes outScheduled: goes out on ${dayName(scheduledDay)}`);
    expect(alert).toMatchObject({
      state: 'scheduled',
      publishAt: instant(scheduledDay, '09:00'),
      nextPublishAt: instant(scheduledDay, '09:00'),
    });
    expect(violationsCompose).toEqual([]);
    expect(composeScrolls).toBe(false);

    // Act: the alerts list
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const row = page.getByRole('row', { name: /Marathon closes Main Street on Sunday/ });
    await row.waitFor();
    const rowText = await row.textContent();

    // Assess: its state and when it goes out
    expect(rowText).toContain('scheduled');
    expect(rowText).toMatch(
      new RegExp(`Goes out ${literal(dayName(scheduledDay))}.* at 09:00 \\(Europe/Madrid time\\)`),
    );
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("adds two later steps to a live alert and sees them on its timeline and in the Scheduled view's day", async () => {
    // Arrange: an alert sent now
    const { page } = rig;
    await page.getByRole('link', { name: 'Compose' }).click();
    await fillAlert(page, 'Marathon: Main Street closed on Tuesday');
    await page.getByRole('button', { name: 'Review and send' }).click();
    await page.getByRole('button', { name: 'Send alert' }).click();
    await page.getByRole('heading', { level: 1, name: 'Marathon: Main Street closed on Tuesday' }).waitFor();
    timelineAlertId = /#\/alerts\/([0-9A-Z]{26})/.exec(page.url())![1]!;
    await page.locator('#alert-state').getByText('sent', { exact: true }).waitFor({ timeout: 20_000 });
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByText(/^Sent /).waitFor();

    // Act: two steps, each on the agency's clock
    for (const [headline, time, version] of [
      ['Main Street closing now', '08:00', 2],
      ['Main Street reopened', '14:00', 3],
    ] as const) {
      await timeline.getByText('Add a step').click();
      const form = timeline.getByRole('form', { name: 'Add a step' });
      await timeline.locator('#s-headline').fill(headline);
      await timeline.locator('#s-description').fill(`${headline}: Main Street, Tuesday.`);
      await timeline.getByLabel(`Date and time (${AGENCY_ZONE} time)`).fill(`${stepsDay}T${time}`);
      await timeline.getByRole('button', { name: 'Add step' }).click();
      await timeline
        .getByRole('status')
        .getByText(new RegExp(`^Saved as version ${version}, scheduled for .* at ${time}\\.$`))
        .waitFor();
      expect(await form.count()).toBe(0);
    }
    const focused = await page.evaluate('document.activeElement?.id');
    const title = await page.getByRole('heading', { level: 1 }).textContent();
    const nextStep = await page.locator('.facts').first().textContent();
    const steps = (await timeline.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s/g, ' '));
    const violationsAlert = await seriousViolations(page);
    const alertScrolls = await fitsAt320(page, () => timeline.waitFor());

    // Assess: in the order they go out, each with its time, headline and who scheduled it
    expect(focused).toBe('timeline-title');
    // The page is headed by what the public reads now, not by the newest step, which waits.
    expect(title).toBe('Marathon: Main Street closed on Tuesday');
    expect(nextStep).toMatch(
      new RegExp(`Next step${literal(dayName(stepsDay))}.* at 08:00 \\(Europe/Madrid time\\)`),
    );
    expect(steps).toHaveLength(3);
    expect(steps[0]).toMatch(
      /^Sent .*Marathon: Main Street closed on Tuesday.*Version 1 · Alert · written by/,
    );
    expect(steps[1]).toContain(`Scheduled for ${dayName(stepsDay)}`);
    expect(steps[1]).toMatch(
      /at 08:00Main Street closing nowVersion 2 · Update · scheduled by duty-officer-7 scheduled/,
    );
    expect(steps[2]).toMatch(
      /at 14:00Main Street reopenedVersion 3 · Update · scheduled by duty-officer-7 scheduled/,
    );
    expect(violationsAlert).toEqual([]);
    expect(alertScrolls).toBe(false);

    // Act: the Scheduled view
    await page.getByRole('link', { name: 'Scheduled' }).click();
    const day = page.getByRole('region', { name: new RegExp(`^${literal(dayName(stepsDay))}`) });
    await day.waitFor();
    const dayItems = (await day.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s/g, ' '));
    const earlierDay = page.getByRole('region', { name: new RegExp(`^${literal(dayName(scheduledDay))}`) });
    const violationsScheduled = await seriousViolations(page);
    await screenshot(page, 'console-scheduled', { top: true });
    const scheduledScrolls = await fitsAt320(page, () => day.waitFor());

    // Assess: grouped by the agency's day, each step with its time, a link to its alert, and its state
    expect(dayItems).toEqual([
      expect.stringMatching(/^08:00Main Street closing nowVersion 2 · Update · Road closure.* scheduled$/),
      expect.stringMatching(/^14:00Main Street reopenedVersion 3 · Update · Road closure.* scheduled$/),
    ]);
    expect(await day.getByRole('link', { name: 'Main Street closing now' }).getAttribute('href')).toBe(
      `#/alerts/${timelineAlertId}`,
    );
    expect(
      await earlierDay.getByRole('link', { name: 'Marathon closes Main Street on Sunday' }).count(),
    ).toBe(1);
    await page.getByRole('status').getByText('3 steps waiting, in 2 alerts.').waitFor();
    expect(violationsScheduled).toEqual([]);
    expect(scheduledScrolls).toBe(false);
  });

  it('edits one waiting step and removes the other; both stay listed, said to be replaced and withdrawn', async () => {
    // Arrange
    const { page, herald } = rig;
    await page.getByRole('link', { name: 'Main Street closing now' }).click();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByText('Main Street reopened', { exact: true }).waitFor();

    // Act: edit version 2, prefilled on the agency's clock
    await timeline.getByRole('button', { name: /^Edit version 2:/ }).click();
    const edit = timeline.getByRole('form', { name: 'Edit version 2' });
    const headline = edit.getByLabel('Headline');
    await headline.waitFor();
    const prefilled = {
      focused: await page.evaluate('document.activeElement?.id'),
      headline: await headline.inputValue(),
      at: await edit.getByLabel(`Date and time (${AGENCY_ZONE} time)`).inputValue(),
    };
    const violationsEdit = await seriousViolations(page);
    await headline.fill('Main Street closes now');
    await edit.getByLabel(`Date and time (${AGENCY_ZONE} time)`).fill(`${stepsDay}T08:30`);
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await timeline
      .getByRole('status')
      .getByText(
        /^Saved as version 4, scheduled for .* at 08:30\. It takes the place of version 2, which will not go out\.$/,
      )
      .waitFor();

    // Act: remove version 3, after the question
    await timeline.getByRole('button', { name: /^Remove version 3:/ }).click();
    const question = timeline.getByRole('group', { name: /^Remove version 3, “Main Street reopened”\?/ });
    await question.waitFor();
    const focusedOnQuestion = await page.evaluate('document.activeElement?.id');
    const violationsQuestion = await seriousViolations(page);
    await question.getByRole('button', { name: 'Remove version 3' }).click();
    await timeline
      .getByRole('status')
      .getByText(/^Version 3 removed: it will not go out\./)
      .waitFor();
    const steps = (await timeline.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s/g, ' '));
    const struck = await timeline.locator('.step-headline s').allTextContents();
    const alert = (await (
      await herald.call('GET', `/v1/alerts/${timelineAlertId}`, { role: 'auditor' })
    ).json()) as Alert;
    const violationsAlert = await seriousViolations(page);
    await timeline.scrollIntoViewIfNeeded();
    await screenshot(page, 'console-alert-timeline');
    const alertScrolls = await fitsAt320(page, () => timeline.waitFor());

    // Assess
    expect(prefilled).toEqual({
      focused: 'e-headline',
      headline: 'Main Street closing now',
      at: `${stepsDay}T08:00`,
    });
    expect(focusedOnQuestion).toBe('remove-question');
    expect(steps).toEqual([
      expect.stringMatching(/^Sent /),
      expect.stringMatching(
        /^Replaced before it went out \(it was for .* at 08:00\)Main Street closing now.* replaced$/,
      ),
      expect.stringMatching(/^Scheduled for .* at 08:30Main Street closes nowVersion 4 · Update/),
      expect.stringMatching(
        /^Withdrawn before it went out \(it was for .* at 14:00\)Main Street reopened.* withdrawn$/,
      ),
    ]);
    expect(struck).toEqual(['Main Street closing now', 'Main Street reopened']);
    expect(alert.versions.map((v) => [v.version, v.state, v.publishAt])).toEqual([
      [1, 'sent', undefined],
      [2, 'superseded', instant(stepsDay, '08:00')],
      [3, 'withdrawn', instant(stepsDay, '14:00')],
      [4, 'scheduled', instant(stepsDay, '08:30')],
    ]);
    expect(violationsEdit).toEqual([]);
    expect(violationsQuestion).toEqual([]);
    expect(violationsAlert).toEqual([]);
    expect(alertScrolls).toBe(false);

    // Act: the Scheduled view follows
    await page.getByRole('link', { name: 'Scheduled' }).click();
    const day = page.getByRole('region', { name: new RegExp(`^${literal(dayName(stepsDay))}`) });
    await day.getByText('Main Street closes now', { exact: true }).waitFor();

    // Assess: only what still waits
    expect((await day.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s/g, ' '))).toEqual([
      expect.stringMatching(/^08:30Main Street closes nowVersion 4 · Update/),
    ]);
  });

  it('follows a step due in a few seconds on the open timeline: it reads as sent, and heads the page, without a reload', async () => {
    // Arrange: the alert page from the last test, still open
    const { page } = rig;
    await page.getByRole('link', { name: 'Main Street closes now' }).click();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByText('Main Street closes now', { exact: true }).waitFor();
    const loads = await page.evaluate('performance.getEntriesByType("navigation").length');

    // Act: a step 20 s ahead, far enough that it is still to come when it is saved
    await timeline.getByText('Add a step').click();
    await timeline.locator('#s-headline').fill('Main Street: one lane reopened');
    await timeline.locator('#s-description').fill('One lane of Main Street is open again.');
    await timeline.getByLabel(`Date and time (${AGENCY_ZONE} time)`).fill(agencyClockIn(20));
    await timeline.getByRole('button', { name: 'Add step' }).click();
    await timeline
      .getByRole('status')
      .getByText(/^Saved as version 5, scheduled for /)
      .waitFor();
    const lane = timeline.getByRole('listitem').filter({ hasText: 'Main Street: one lane reopened' });
    const before = (await lane.textContent())?.replace(/\s/g, ' ');
    await lane.filter({ hasText: /^Sent / }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { level: 1, name: 'Main Street: one lane reopened' }).waitFor();

    // Assess: waiting, then out; the page was never reloaded
    expect(before).toMatch(
      /^Scheduled for .*Main Street: one lane reopenedVersion 5 · Update · scheduled by/,
    );
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(loads);
    expect(await seriousViolations(page)).toEqual([]);
  }, 90_000);
});
