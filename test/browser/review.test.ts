/**
 * The second person and the auditor, in Debian's chromium against a real embedded Herald: an Extreme alert written
 * by one officer waits in the supervisor's queue, its author cannot approve it (the API's 403 is shown), another
 * supervisor approves it and it goes out; the auditor filters the list, reads every version with what changed, who
 * wrote and approved it, the receipts with filters, exports them as CSV, and reads the audit log. axe finds no
 * serious or critical violation on any of these pages.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserRig, screenshot, seriousViolations, signIn, startBrowserRig } from './harness';

const HEADLINE = 'Evacuate Barceloneta beach now: gas leak';

describe('Console: the supervisor and the auditor', () => {
  let rig: BrowserRig;
  let alertId = '';
  beforeAll(async () => {
    rig = await startBrowserRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('holds an Extreme alert an officer composed for a second person’s approval', async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'officer', 'Duty Officer 1');
    await page.getByRole('button', { name: 'Emergency / evacuation' }).click();
    await page.getByLabel('Headline', { exact: true }).fill(HEADLINE);
    await page
      .getByLabel('Description', { exact: true })
      .fill('Because of a gas leak, everyone on Barceloneta beach must leave now.');
    await page
      .getByLabel('Instruction (optional)')
      .fill('Leave by Passeig Marítim. Go to Plaça de la Barceloneta. Follow police instructions.');
    await page.getByRole('group', { name: /Zones/ }).getByLabel('Ciutat Vella').check();

    // Act
    await page.getByRole('button', { name: 'Review and send' }).click();
    const confirm = page.getByRole('region', { name: 'Confirm: what will go where' });
    await confirm.getByText(/Held for approval/).waitFor();
    await confirm.getByRole('button', { name: 'Send alert' }).click();

    // Assess
    await page.locator('#alert-state').getByText('pending-approval', { exact: true }).waitFor();
    alertId = /#\/alerts\/([0-9A-Z]{26})/.exec(page.url())![1]!;
    await page.getByText('Waiting for a supervisor’s approval: nothing has gone out yet.').waitFor();
  });

  it('shows the two-person rule’s refusal when the author approves their own alert as supervisor', async () => {
    // Arrange: the same person (same name) signed in as supervisor
    const { page } = rig;
    await signIn(page, 'supervisor', 'Duty Officer 1');
    const card = page.getByRole('article', { name: HEADLINE });

    // Act
    await card.getByRole('button', { name: 'Approve and send' }).click();

    // Assess
    await card
      .getByRole('alert')
      .getByText(/Not approved: The two-person rule/)
      .waitFor();
    const alert = (await (
      await rig.herald.call('GET', `/v1/alerts/${alertId}`, { role: 'auditor' })
    ).json()) as {
      state: string;
    };
    expect(alert.state).toBe('pending-approval');
  });

  it('lets a different supervisor approve it from the queue, and the alert goes out', async () => {
    // Arrange
    const { page } = rig;
    await signIn(page, 'supervisor', 'Shift Supervisor 2');
    const card = page.getByRole('article', { name: HEADLINE });
    await card.waitFor();
    const violations = await seriousViolations(page);
    await screenshot(page, 'console-approvals');

    // Act
    await card.getByLabel('Note (optional)').fill('Confirmed with the fire brigade.');
    await card.getByRole('button', { name: 'Approve and send' }).click();

    // Assess
    expect(violations).toEqual([]);
    await page.getByRole('heading', { level: 1, name: HEADLINE }).waitFor();
    await page.locator('#alert-state').getByText('sent', { exact: true }).waitFor({ timeout: 20_000 });
    await page.getByText(/approved by shift-supervisor-2/).waitFor();
    // A supervisor is offered cancel, never compose or update.
    expect(await page.getByRole('link', { name: 'Compose' }).count()).toBe(0);
    expect(await page.getByText('Update this alert').count()).toBe(0);
    await page.getByRole('button', { name: 'Cancel this alert' }).waitFor();
  });

  it('lets the auditor filter the alerts list', async () => {
    // Arrange: a second alert, an exercise, so the filters have something to leave out
    const { page, herald } = rig;
    const officer = await herald.identity.issue({ roles: ['officer'], sub: 'duty-officer-1' });
    const exercise = await fetch(`${herald.url}/v1/alerts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${officer}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify({
        status: 'Exercise',
        category: 'Safety',
        event: 'Drill',
        urgency: 'Expected',
        severity: 'Minor',
        certainty: 'Observed',
        language: 'en',
        headline: 'Exercise: evacuation drill at the port',
        description: 'This is a drill.',
        channels: ['x'],
      }),
    });
    expect(exercise.status).toBe(201);
    await signIn(page, 'auditor', 'Auditor 3');
    await page.getByRole('table', { name: 'Alerts, newest first' }).getByRole('link').first().waitFor();
    const rows = page.getByRole('table', { name: 'Alerts, newest first' }).locator('tbody tr');

    // Act
    await page.getByLabel('Status').selectOption('Exercise');
    const exercises = await rows.allTextContents();
    await page.getByLabel('Status').selectOption('all');
    await page.getByLabel('Search the loaded alerts').fill('barceloneta');
    const searched = await rows.allTextContents();
    await page.getByLabel('Search the loaded alerts').fill('');
    await page.getByLabel('State').selectOption('sent');
    const sent = await rows.allTextContents();
    const violations = await seriousViolations(page);
    await screenshot(page, 'console-auditor-list');

    // Assess
    expect(exercises).toHaveLength(1);
    expect(exercises[0]).toContain('Exercise: evacuation drill at the port');
    expect(searched).toHaveLength(1);
    expect(searched[0]).toContain(HEADLINE);
    expect(sent.some((r) => r.includes(HEADLINE))).toBe(true);
    expect(violations).toEqual([]);
  });

  it('shows the auditor every version with what changed, who wrote and approved it, receipts, CSV and the audit log', async () => {
    // Arrange: an update by the officer, so there is a difference to read
    const { page, herald } = rig;
    const officer = await herald.identity.issue({ roles: ['officer'], sub: 'duty-officer-1' });
    const update = await fetch(`${herald.url}/v1/alerts/${alertId}/updates`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${officer}`,
        'content-type': 'application/json',
        'if-match': '"1"',
        'idempotency-key': crypto.randomUUID(),
      },
      // Severe, not Extreme: this update goes out without a second approval.
      body: JSON.stringify({
        headline: 'Barceloneta beach: gas leak contained, stay away',
        severity: 'Severe',
      }),
    });
    expect(update.status).toBe(201);

    // Act: the list read afresh shows the alert under its new headline
    await page.reload();
    await page.getByRole('link', { name: 'Barceloneta beach: gas leak contained, stay away' }).click();
    await page.getByRole('heading', { level: 3, name: 'Version 2: Update' }).waitFor();
    await page.locator('#alert-state').getByText('sent', { exact: true }).waitFor({ timeout: 20_000 });
    const changes = page.getByRole('table', { name: 'Changes in version 2' });
    const changedRows = await changes.locator('tbody tr').allTextContents();
    const filters = page.getByRole('form', { name: 'Receipt filters' });
    await filters.getByLabel('Channel').selectOption('x');
    await filters.getByLabel('Version').selectOption('1');
    await filters.getByRole('button', { name: 'Show receipts' }).click();
    await page
      .getByRole('status')
      .getByText(/^1 receipt shown/)
      .waitFor();
    const receiptRows = await page
      .getByRole('table', { name: 'Receipts', exact: true })
      .locator('tbody tr')
      .allTextContents();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    const audit = page.getByRole('table', { name: /entries, oldest first/ });
    await audit.getByText('version.approved').waitFor();
    const auditText = await audit.textContent();
    const violations = await seriousViolations(page);
    await screenshot(page, 'console-auditor-alert');

    // Assess: the difference, field by field
    expect(changedRows).toContainEqual(
      expect.stringMatching(/^headline.*Evacuate Barceloneta beach now: gas leak.*gas leak contained/),
    );
    expect(changedRows).toContainEqual(expect.stringMatching(/^msgTypeAlertUpdate$/));
    expect(changedRows).toContainEqual(expect.stringMatching(/^severityExtremeSevere$/));
    // Who wrote and who approved
    await page
      .getByText(/written by duty-officer-1 · approved by shift-supervisor-2/)
      .first()
      .waitFor();
    // Receipts filtered to version 1 on X, and the CSV of that selection
    expect(receiptRows).toHaveLength(1);
    expect(receiptRows[0]).toMatch(/^1X@agencysent sandbox/);
    expect(download.suggestedFilename()).toBe(`deliveries-${alertId}.csv`);
    const lines = csv.trim().split(/\r\n/);
    expect(lines[0]).toBe(
      'version,channel,recipient,status,attempts,providerMessageId,reason,nextAttemptAt,updatedAt,' +
        'subscriberId,name,webhookId,outcomeUnknown,possibleDuplicate,sandbox,attemptTimes,failures',
    );
    expect(lines.slice(1)).toHaveLength(1);
    // '@agency: the API quotes a cell a spreadsheet would run as a formula.
    expect(lines[1]).toMatch(/^1,x,'@agency,sent,1,sbx-x-/);
    // No X credentials here: the row says the sandbox sent it
    expect(lines[1]!.split(',')[14]).toBe('true');
    // The audit log: author, the hold, the approval with its note
    expect(auditText).toContain('alert.created');
    expect(auditText).toContain('version.held-for-approval');
    expect(auditText).toMatch(/shift-supervisor-2version\.approved1.*Confirmed with the fire brigade\./);
    expect(violations).toEqual([]);
  });
});
