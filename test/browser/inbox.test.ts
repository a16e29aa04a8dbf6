/**
 * The inbox in Debian's chromium against a real embedded Herald, tips made as residents make them: a resident who
 * joined a zone by text answers an alert's SMS with free text, another comments under the alert's post on X (the
 * sandbox's inbound social route), a third uses the web form without leaving a contact. The open inbox shows a new
 * tip without a reload and the navigation's count follows; the thread takes a reply (the SMS one goes out from the
 * agency's number and shows in the thread), an assignment, a close and a reopen; a public reply on X needs a tick
 * and a confirmation; a tip that cannot be answered says so; auditors only read; axe finds nothing serious; nothing
 * scrolls sideways at 360 px; and no phone number appears on any page.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAFT, waitFor } from '../helpers/embedded';
import { type BrowserRig, scrollsSideways, seriousViolations, signIn, startBrowserRig } from './harness';

const RESIDENT = '+34611987654';
const HEADLINE = 'Missing boy, 9, last seen near the Boqueria market';
const SMS_TIP = 'I think I saw him by the cathedral steps ten minutes ago, red jacket';
const SOCIAL_TIP = 'He was on the metro at Liceu heading north';
const WEB_TIP = 'A boy in a red jacket asked me for directions to Drassanes';
const SLOW = 60_000;
/** Past one poll (10 s) of the inbox, with room for a slow machine. */
const POLL_WAIT = 25_000;

interface Tip {
  id: string;
  reference: string;
  source: string;
  from: string;
  state: string;
  alertId?: string;
}
interface OutboxItem {
  channel: string;
  alertId: string;
  recipient: string;
  text: string;
  providerMessageId: string;
  inReplyTo?: string;
}

/** A number written the way a phone number is (8 digits or more, maybe spaced), or any masked one. */
const PHONE = /\+?\d(?:[\s.-]?\d){7,}|•/;

async function pageText(page: Page): Promise<string> {
  return page.locator('body').innerText();
}

describe('Console: the inbox of residents’ tips', () => {
  let rig: BrowserRig;
  let alertId = '';
  let xPost = '';
  const outbox = async (channel: string): Promise<OutboxItem[]> =>
    (
      (await (await rig.herald.call('GET', `/v1/sandbox/outbox?channel=${channel}`)).json()) as {
        items: OutboxItem[];
      }
    ).items;
  const tips = async (query = ''): Promise<Tip[]> =>
    (
      (await (await rig.herald.call('GET', `/v1/tips${query}`, { role: 'officer' })).json()) as {
        items: Tip[];
      }
    ).items;
  const navInbox = (page: Page) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Inbox/ });

  beforeAll(async () => {
    rig = await startBrowserRig();
    const { herald } = rig;
    // The resident joins the zone by text, as from their phone; the alert then reaches them by SMS and posts on X.
    const joined = await herald.call('POST', '/v1/sandbox/inbound/sms', {
      body: { from: RESIDENT, body: 'JOIN ciutat-vella' },
    });
    expect(joined.status).toBe(200);
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
        description: 'Pau, 9, wearing a red jacket. Call 112 if you see him.',
        areas: [{ zone: 'ciutat-vella' }],
        channels: ['x', 'sms'],
      },
    });
    expect(created.status).toBe(201);
    alertId = ((await created.json()) as { id: string }).id;
    xPost = await waitFor(
      async () => (await outbox('x')).find((i) => i.alertId === alertId)?.providerMessageId,
      20_000,
      'the alert posted on X',
    );
    await waitFor(
      async () => (await outbox('sms')).find((i) => i.alertId === alertId) ?? undefined,
      20_000,
      'the alert texted to the resident',
    );
  }, SLOW);
  afterAll(async () => {
    await rig?.close();
  });

  it(
    'shows a new tip in the open inbox without a reload, announces it, and the count in the navigation follows',
    async () => {
      // Arrange
      const { page, herald } = rig;
      await signIn(page, 'officer', 'Duty Officer 1');
      await page.goto('/#/inbox');
      await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
      await page.getByRole('status').getByText(/shown/).waitFor();
      await navInbox(page)
        .getByText(/\(\d+ open\)/)
        .waitFor();
      const before = Number(/\((\d+) open\)/.exec((await navInbox(page).textContent()) ?? '')?.[1]);
      const loads = await page.evaluate('performance.getEntriesByType("navigation").length');

      // Act: the resident answers the alert's text with free text
      const sent = await herald.call('POST', '/v1/sandbox/inbound/sms', {
        body: { from: RESIDENT, body: SMS_TIP },
      });
      const tip = await waitFor(
        async () => (await tips('?source=sms')).find((t) => t.source === 'sms'),
        10_000,
        'the SMS tip',
      );
      const link = page.getByRole('link', { name: new RegExp(`^${tip.reference} · `) });
      await link.waitFor({ timeout: POLL_WAIT });

      // Assess
      expect(sent.status).toBe(200);
      expect(tip).toMatchObject({ alertId, state: 'open' });
      await page
        .getByRole('status')
        .getByText(/^1 new tip\./)
        .waitFor();
      await navInbox(page)
        .getByText(`(${before + 1} open)`)
        .waitFor({ timeout: POLL_WAIT });
      expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(loads);
      expect(await page.getByText(SMS_TIP).count()).toBe(1);
      // The tipster is an alias; the page links the alert the tip answers by its headline.
      expect(tip.from).not.toMatch(PHONE);
      expect(await page.locator('main').getByRole('link', { name: HEADLINE }).count()).toBeGreaterThan(0);
      expect(await pageText(page)).not.toMatch(PHONE);
      expect(await seriousViolations(page)).toEqual([]);
    },
    SLOW,
  );

  it(
    'keeps the filters in the address: SMS tips only, and the same after a reload',
    async () => {
      // Arrange
      const { page } = rig;

      // Act
      await page.getByLabel('Source').selectOption('sms');
      await page.getByLabel('State').selectOption('any');
      await waitFor(
        async () => (/source=sms/.test(page.url()) ? true : undefined),
        5_000,
        'the filter in the URL',
      );
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
      await page.getByRole('status').getByText(/shown/).waitFor();

      // Assess
      expect(page.url()).toMatch(/state=any/);
      expect(await page.getByLabel('Source').inputValue()).toBe('sms');
      expect(await page.locator('main .tip').count()).toBe((await tips('?source=sms')).length);
      expect(await page.locator('main .tip .meta').first().textContent()).toMatch(/^SMS · /);
    },
    SLOW,
  );

  it(
    'opens the SMS tip’s thread, replies from the agency’s number into the same thread, assigns, closes and reopens',
    async () => {
      // Arrange
      const { page } = rig;
      const [tip] = await tips('?source=sms');
      await page.getByRole('link', { name: new RegExp(`^${tip!.reference} · `) }).click();
      await page.getByRole('heading', { level: 1, name: `Tip ${tip!.reference}` }).waitFor();
      const violationsThread = await seriousViolations(page);
      const reply = 'Thank you. Officers are on their way to the cathedral.';

      // Act: reply
      await page.getByLabel('Your reply').fill(reply);
      await page.getByRole('button', { name: 'Send reply' }).click();
      await page
        .getByRole('status')
        .getByText(/^Reply sent to /)
        .waitFor();

      // Assess: out from the agency, back to the resident's phone, in the thread
      const messages = page.getByRole('list', { name: 'Messages' });
      await messages.getByText(reply).waitFor();
      expect(await messages.locator('.msg-out').textContent()).toMatch(/Reply by/);
      const texted = await waitFor(
        async () => (await outbox('sms')).find((i) => i.text.includes(reply)),
        10_000,
        'the reply in the SMS outbox',
      );
      expect(texted.recipient.endsWith(RESIDENT.slice(-2))).toBe(true);

      // Act: assign to me, close with a note, reopen
      await page.getByRole('button', { name: 'Assign to me' }).click();
      await page
        .getByRole('status')
        .getByText(/^Assigned to /)
        .waitFor();
      await page.getByText('Assigned to you.').waitFor();
      const countOpen = (await navInbox(page).textContent()) ?? '';
      await page.getByLabel('Note (optional)').fill('Found safe at 11:20.');
      await page.getByRole('button', { name: 'Close tip' }).click();
      await page.locator('#tip-state').getByText('closed', { exact: true }).waitFor();
      const focusAfterClose = await page.evaluate('document.activeElement?.textContent');
      await navInbox(page).filter({ hasNotText: countOpen }).waitFor();
      const replyWhileClosed = await page.getByRole('button', { name: 'Send reply' }).count();
      await page.getByRole('button', { name: 'Reopen tip' }).click();
      await page.locator('#tip-state').getByText('open', { exact: true }).waitFor();

      // Assess
      expect(violationsThread).toEqual([]);
      expect(focusAfterClose).toBe('Tip closed.');
      expect(replyWhileClosed).toBe(0);
      const stored = (await (
        await rig.herald.call('GET', `/v1/tips/${tip!.id}`, { role: 'auditor' })
      ).json()) as Tip & {
        assignee?: string;
      };
      expect(stored).toMatchObject({ state: 'open', assignee: expect.any(String) });
      await navInbox(page)
        .getByText(countOpen.replace(/^Inbox\s*/, ''))
        .waitFor();
      expect(await pageText(page)).not.toMatch(PHONE);
      expect(await seriousViolations(page)).toEqual([]);
    },
    SLOW,
  );

  it(
    'posts a public reply to a comment on X only once the box is ticked and the reply confirmed',
    async () => {
      // Arrange
      const { page, herald } = rig;
      const played = await herald.call('POST', '/v1/sandbox/inbound/social', {
        body: { channel: 'x', inReplyTo: xPost, author: '@raval_neighbour', text: SOCIAL_TIP },
      });
      expect(played.status).toBeLessThan(300);
      const tip = await waitFor(
        async () => (await tips('?source=x')).find((t) => t.source === 'x'),
        10_000,
        'the X tip',
      );
      const reply = 'Thank you, we have passed this on to the officers at Liceu.';
      const posted = async () => (await outbox('x')).filter((i) => i.text.includes(reply));
      await page.goto('/#/inbox?source=x');
      await page.getByRole('link', { name: `${tip.reference} · @raval_neighbour` }).click();
      await page.getByRole('heading', { level: 1, name: `Tip ${tip.reference}` }).waitFor();

      // Act: without the tick
      await page.getByLabel('Your reply').fill(reply);
      await page.getByRole('button', { name: 'Review the public reply' }).click();
      const refusal = await page.locator('#reply-public-error').textContent();
      const focused = await page.evaluate('document.activeElement?.id');

      // Act: ticked, the confirmation shows the very text
      await page.getByLabel("Reply publicly under the agency's post").check();
      await page.getByRole('button', { name: 'Review the public reply' }).click();
      const confirm = page.getByRole('region', { name: 'Confirm the public reply' });
      await confirm.waitFor();
      const beforeConfirm = await posted();
      const violationsConfirm = await seriousViolations(page);
      await confirm.getByRole('button', { name: 'Post publicly on X' }).click();

      // Assess
      expect(refusal).toMatch(/seen by everyone: tick this box/);
      expect(focused).toBe('reply-public');
      expect(await confirm.textContent()).toContain(reply);
      expect(beforeConfirm).toEqual([]);
      expect(violationsConfirm).toEqual([]);
      await page
        .getByRole('status')
        .getByText(/^(Public reply queued|Reply posted publicly on X)/)
        .waitFor();
      const answer = page
        .getByRole('list', { name: 'Messages' })
        .locator('.msg-out')
        .filter({ hasText: reply });
      expect(await answer.locator('.meta').textContent()).toMatch(/· public · (queued|sending|sent)/);
      // A public reply waits in a queue for X's helper, which posts it under the resident's comment.
      const [post] = await waitFor(
        async () => ((await posted()).length ? posted() : undefined),
        POLL_WAIT,
        'the reply on X',
      );
      // The thread, read again while the reply was queued, shows it posted without a reload.
      await answer
        .locator('.meta')
        .filter({ hasText: /· sent/ })
        .waitFor({ timeout: POLL_WAIT });
      expect(post).toMatchObject({ channel: 'x', inReplyTo: expect.any(String) });
    },
    SLOW,
  );

  it(
    'says why a tip cannot be answered: a web tip left without a contact, and (409) one another officer just closed',
    async () => {
      // Arrange
      const { page, herald } = rig;
      const left = await herald.call('POST', '/v1/tips', {
        body: { text: WEB_TIP, alertId },
        headers: { 'idempotency-key': crypto.randomUUID() },
      });
      expect(left.status).toBe(202);
      const { reference } = (await left.json()) as { reference: string };
      const [smsTip] = await tips('?source=sms');

      // Act: the web tip, from the alert's page
      await page.goto(`/#/alerts/${alertId}`);
      const section = page.getByRole('region', { name: 'Tips from residents' });
      await section.getByRole('link', { name: new RegExp(`^${reference} · `) }).click();
      await page.getByRole('heading', { level: 1, name: `Tip ${reference}` }).waitFor();
      await page.getByText('This tip cannot be answered: the tipster left no way to reach them.').waitFor();
      const replyFormsOnWebTip = await page.getByLabel('Your reply').count();

      // Act: the SMS tip, closed by someone else while the reply is being written
      await page.goto(`/#/tips/${smsTip!.id}`);
      await page.getByLabel('Your reply').fill('Did he look hurt?');
      const closed = await herald.call('POST', `/v1/tips/${smsTip!.id}/close`, {
        role: 'supervisor',
        body: {},
      });
      await page.getByRole('button', { name: 'Send reply' }).click();
      const problem = page.getByRole('alert').filter({ hasText: 'cannot be answered' });
      await problem.waitFor();
      const problemText = await problem.textContent();
      const reopened = await herald.call('POST', `/v1/tips/${smsTip!.id}/reopen`, {
        role: 'supervisor',
        body: {},
      });

      // Act: the alert's page lists all three tips
      await page.goto(`/#/alerts/${alertId}`);
      await section.getByRole('heading', { level: 3 }).first().waitFor();

      // Assess
      expect(replyFormsOnWebTip).toBe(0);
      expect([closed.status, reopened.status]).toEqual([200, 200]);
      expect(problemText).toMatch(/^Not sent: this tip cannot be answered\. The tip is closed/);
      expect(await section.getByRole('heading', { level: 3 }).count()).toBe(3);
      // The alert page's receipts show masked numbers by design; its tips show none.
      expect(await section.innerText()).not.toMatch(PHONE);
    },
    SLOW,
  );

  it(
    'lets an auditor read the inbox and a thread, with nothing to reply, assign or close with',
    async () => {
      // Arrange
      const { page } = rig;
      const [tip] = await tips('?source=sms');
      await signIn(page, 'auditor', 'Auditor 1');

      // Act
      await page.goto('/#/inbox');
      await page.getByRole('link', { name: new RegExp(`^${tip!.reference} · `) }).click();
      await page.getByRole('heading', { level: 1, name: `Tip ${tip!.reference}` }).waitFor();
      await page.getByRole('list', { name: 'Messages' }).getByText(SMS_TIP).waitFor();

      // Assess
      for (const name of ['Send reply', 'Assign to me', 'Assign', 'Close tip', 'Reopen tip'])
        expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
      await page.getByText('You can read tips; officers and supervisors answer them.').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
    },
    SLOW,
  );

  it(
    'fits the inbox and a thread on a 360 px wide phone without sideways scrolling',
    async () => {
      // Arrange
      const { page } = rig;
      const [tip] = await tips('?source=x');
      await signIn(page, 'officer', 'Duty Officer 1');
      await page.setViewportSize({ width: 360, height: 780 });

      // Act
      await page.goto('/#/inbox?state=any');
      await page.locator('main .tip').first().waitFor();
      const inboxScrolls = await scrollsSideways(page);
      const inboxText = await pageText(page);
      await page.goto(`/#/tips/${tip!.id}`);
      await page.getByRole('heading', { level: 1, name: `Tip ${tip!.reference}` }).waitFor();
      const threadScrolls = await scrollsSideways(page);
      await page.setViewportSize({ width: 1280, height: 900 });

      // Assess
      expect({ inboxScrolls, threadScrolls }).toEqual({ inboxScrolls: false, threadScrolls: false });
      expect(inboxText).not.toMatch(PHONE);
    },
    SLOW,
  );
});
