/**
 * One alert: live delivery status per channel (polled every 2 s until settled), its timeline of steps sent and
 * waiting (./timeline.ts), its versions as a thread with what changed, update / cancel / approve in one step each,
 * and for auditors the receipts, CSV export and audit log.
 */
import { ApiError, call, newIdempotencyKey } from '../api';
import type { Context } from '../context';
import { versionChanges } from '../diff';
import { formatTime, h, safeUrl, show, table } from '../dom';
import { clearErrors, errorSummary, field, input, select, showFieldErrors, textarea } from '../form';
import { agencyTimeZone, publicVersion, timelineSignature, whenOf } from '../schedule';
import { can } from '../session';
import { renderAlertTips } from '../tips';
import {
  type Alert,
  type AlertVersion,
  type AuditEntry,
  CERTAINTIES,
  CHANNEL_NAMES,
  type Channel,
  DELIVERY_STATUSES,
  type DeliveryReport,
  type DeliveryStatus,
  SEVERITIES,
  URGENCIES,
} from '../types';
import { testBanner } from './compose';
import { receiptTags, recipientOf, renderReceipts, tag } from './receipts';
import { timeline } from './timeline';

const POLL_MS = 2000;
/** Only residents' quiet hours left (hours, perhaps): looked at now and then, not every 2 s all night. */
const QUIET_HOURS_POLL_MS = 60_000;
/**
 * While steps wait and nothing is on its way, the alert is read once a minute (one request), and again just after
 * the next step's time, so the view follows a step going out without polling every 2 s for days.
 */
const WAITING_POLL_MAX_MS = 60_000;
const WAITING_POLL_MIN_MS = 10_000;
const ACTIVE: DeliveryStatus[] = ['queued', 'sending', 'retrying'];

export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state}` }, state);
}

export function alertView(main: HTMLElement, ctx: Context): () => void {
  const id = ctx.params[0]!;
  const session = ctx.session!;
  let alert: Alert | undefined;
  /** What the header, the delivery status and the update form show: the version the public reads (timeline.ts). */
  let publicAlert: Alert | undefined;
  let etag: string | undefined;
  let timeZone = 'UTC';
  const zoneRead = agencyTimeZone();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let shownThread = '';
  let wasSettled = false;

  const header = h('div');
  const status = h('section', { 'aria-labelledby': 'status-title' });
  const statusLive = h('p', { role: 'status', class: 'live' });
  const statusBody = h('div');
  const actions = h('div');
  const thread = h('section', { 'aria-labelledby': 'thread-title' });
  const receipts = h('section', { 'aria-labelledby': 'receipts-title' });
  const audit = h('section', { 'aria-labelledby': 'audit-title' });
  const tips = h('section', { 'aria-labelledby': 'alert-tips-title' });
  // Drawn by ./impact.ts, fetched with its charts only when an alert is opened (not on the console's first load).
  const impact = h(
    'section',
    { 'aria-labelledby': 'impact-title', id: 'impact' },
    h('h2', { id: 'impact-title' }, 'Impact'),
  );
  const steps = timeline(ctx, id, () => refresh(true));
  show(status, h('h2', { id: 'status-title' }, 'Delivery'), statusLive, statusBody);
  show(
    main,
    h('h1', { tabindex: '-1', id: 'alert-title' }, 'Alert'),
    header,
    status,
    steps.section,
    actions,
    thread,
    tips,
    impact,
  );
  if (can.audit(session)) main.append(receipts, audit);
  else main.append(receipts);

  async function load(): Promise<void> {
    const res = await call<Alert>('GET', `/v1/alerts/${id}`);
    alert = res.body;
    etag = res.etag;
    const n = publicVersion(alert);
    publicAlert =
      n === alert.version
        ? alert
        : {
            ...alert,
            ...(await call<AlertVersion>('GET', `/v1/alerts/${id}/versions/${n}`)).body,
            state: alert.state,
          };
  }

  function renderHeader(a: Alert): void {
    show(main.querySelector('#alert-title')!, a.headline);
    const web = safeUrl(a.web);
    show(
      header,
      testBanner(a.status),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'State'),
        h('dd', { id: 'alert-state' }, stateBadge(a.state)),
        h('dt', null, 'Event'),
        h('dd', null, `${a.event} · ${a.severity} · ${a.urgency} · ${a.certainty}`),
        h('dt', null, 'Status'),
        h('dd', null, a.status),
        h('dt', null, 'Version'),
        h('dd', null, `${a.version} (${a.msgType}), ${formatTime(a.sent)}`),
        a.nextPublishAt
          ? [
              h(
                'dt',
                null,
                a.versions.some((v) => v.state === 'sent' || v.state === 'dispatching')
                  ? 'Next step'
                  : 'Goes out',
              ),
              h('dd', null, `${whenOf(a.nextPublishAt, timeZone)} (${timeZone} time)`),
            ]
          : null,
        h('dt', null, 'Languages'),
        h('dd', null, [a.language, ...a.translations.map((t) => t.language)].join(', ')),
        h('dt', null, 'Channels'),
        h('dd', null, a.channels.map((c) => CHANNEL_NAMES[c]).join(', ')),
        h('dt', null, 'Areas'),
        h('dd', null, a.areas.map((x) => x.areaDesc ?? x.zone).join(', ') || 'none'),
        web ? [h('dt', null, 'Link'), h('dd', null, h('a', { href: web, rel: 'noopener' }, web))] : null,
      ),
      h('p', { class: 'message' }, a.description),
      a.instruction ? h('p', { class: 'message' }, h('strong', null, 'Instruction: '), a.instruction) : null,
      // Each translation as sent, marked with its language so screen readers read it in that language.
      a.translations.map((t) =>
        h(
          'section',
          { class: 'translation', lang: t.language, 'aria-labelledby': `translation-${t.language}` },
          h('h2', { id: `translation-${t.language}`, lang: 'en' }, `In ${t.language}`),
          h('p', { class: 'message' }, h('strong', null, t.headline)),
          h('p', { class: 'message' }, t.description),
          t.instruction ? h('p', { class: 'message' }, t.instruction) : null,
        ),
      ),
    );
  }

  let waitingForQuietHours = false;

  async function refreshStatus(): Promise<boolean> {
    const a = publicAlert!;
    const v = a.version;
    const perChannel = await Promise.all(
      a.channels.map(async (c) => {
        const { body } = await call<DeliveryReport>(
          'GET',
          `/v1/alerts/${id}/deliveries?version=${v}&channel=${c}&limit=1`,
        );
        // A channel's provider is chosen once (and Test and Exercise alerts always go to the sandbox), so the
        // receipt read for the totals tells whether this channel's sends reached anyone.
        return [c, body.totals, body.deliveries[0]?.sandbox === true] as const;
      }),
    );
    const [failed, retrying] = await Promise.all(
      (['failed', 'retrying'] as const).map(
        async (s) =>
          (await call<DeliveryReport>('GET', `/v1/alerts/${id}/deliveries?version=${v}&status=${s}&limit=20`))
            .body.deliveries,
      ),
    );
    const active = perChannel.some(([, t]) => ACTIVE.some((s) => (t[s] ?? 0) > 0));
    const total = (s: DeliveryStatus) => perChannel.reduce((n, [, t]) => n + (t[s] ?? 0), 0);
    const shown = DELIVERY_STATUSES.filter((s) => total(s) > 0 || s === 'sent' || s === 'failed');
    const inSandbox = perChannel.reduce(
      (n, [, t, sandbox]) => n + (sandbox ? (t.sent ?? 0) + (t.delivered ?? 0) : 0),
      0,
    );
    const count = (n: number, s: DeliveryStatus, sandbox: boolean) =>
      sandbox && n > 0 && (s === 'sent' || s === 'delivered') ? `${n} (sandbox)` : String(n);
    show(
      statusBody,
      a.state === 'pending-approval'
        ? h('p', { class: 'notice' }, 'Waiting for a supervisor’s approval: nothing has gone out yet.')
        : null,
      a.state === 'scheduled'
        ? h('p', { class: 'notice' }, 'Scheduled: nothing has gone out yet. The timeline says when it will.')
        : null,
      table(
        `Version ${v}: receipts per channel`,
        ['Channel', ...shown],
        perChannel.map(([c, t, sandbox]) => [
          sandbox
            ? h('span', null, CHANNEL_NAMES[c as Channel], ' ', tag('sandbox', 'sandbox'))
            : CHANNEL_NAMES[c as Channel],
          ...shown.map((s) => count(t[s] ?? 0, s, sandbox)),
        ]),
      ),
      failed!.length
        ? [
            h('h3', null, 'Failures'),
            h(
              'ul',
              { class: 'failures' },
              failed!.map((d) =>
                h(
                  'li',
                  null,
                  `${CHANNEL_NAMES[d.channel]} → ${recipientOf(d)}: ${d.reason ?? 'no reason given'}`,
                  ...receiptTags(d),
                ),
              ),
            ),
          ]
        : null,
      retrying!.length
        ? [
            h('h3', null, 'Retrying'),
            h(
              'ul',
              null,
              retrying!.map((d) =>
                h(
                  'li',
                  null,
                  `${CHANNEL_NAMES[d.channel]} → ${recipientOf(d)}: attempt ${d.attempts}${d.reason ? ` (${d.reason})` : ''}${d.nextAttemptAt ? `, next at ${formatTime(d.nextAttemptAt)}` : ''}`,
                  ...receiptTags(d),
                ),
              ),
            ),
          ]
        : null,
    );
    // A scheduled alert has nothing on its way until its time: the slower watch below follows it.
    const settled = !active && ['sent', 'cancelled', 'expired', 'scheduled'].includes(a.state);
    const sandboxed =
      inSandbox > 0 ? ` ${inSandbox} of them sent by the sandbox: nothing reached the public.` : '';
    // What waits for residents' quiet hours is not in progress: it goes out when they end (receipts say when).
    const deferred = total('deferred');
    const superseded = total('superseded');
    waitingForQuietHours = !active && deferred > 0;
    const quiet = `${deferred > 0 ? ` ${deferred} waiting for residents’ quiet hours to end.` : ''}${
      superseded > 0 ? ` ${superseded} not sent: replaced by a newer version while waiting.` : ''
    }`;
    const line = `State: ${a.state}. ${total('sent') + total('delivered')} sent, ${total('failed')} failed, ${
      total('queued') + total('sending') + total('retrying')
    } in progress.${quiet}${sandboxed}`;
    if (statusLive.textContent !== line) show(statusLive, line);
    return settled;
  }

  async function renderThread(a: Alert): Promise<void> {
    // Drawn again when a version is added, and when one changes state (sent, replaced, withdrawn).
    const signature = timelineSignature(a);
    if (signature === shownThread) return;
    shownThread = signature;
    const versions = await Promise.all(
      a.versions.map(
        async (s) => (await call<AlertVersion>('GET', `/v1/alerts/${id}/versions/${s.version}`)).body,
      ),
    );
    show(
      thread,
      h('h2', { id: 'thread-title' }, 'Versions'),
      h(
        'ol',
        { class: 'thread' },
        versions.map((v, i) => {
          const changes = versionChanges(versions[i - 1], v);
          return h(
            'li',
            { class: `version msg-${v.msgType}` },
            h('h3', null, `Version ${v.version}: ${v.msgType}`),
            h(
              'p',
              { class: 'meta' },
              `${formatTime(v.sent)} · written by ${v.author}`,
              v.approval.required
                ? v.approval.approvedBy
                  ? ` · approved by ${v.approval.approvedBy} at ${formatTime(v.approval.approvedAt)}${v.approval.note ? ` (“${v.approval.note}”)` : ''}`
                  : ' · awaiting approval'
                : '',
              ` · ${v.state}`,
            ),
            h('p', { class: 'message' }, v.headline),
            v.note ? h('p', null, `Reason: ${v.note}`) : null,
            i > 0
              ? h(
                  'details',
                  { open: can.audit(session) },
                  h('summary', null, `What changed from version ${versions[i - 1]!.version}`),
                  changes.length
                    ? table(
                        `Changes in version ${v.version}`,
                        ['Field', 'Before', 'After'],
                        changes.map((c) => [c.field, c.before, c.after]),
                      )
                    : h('p', null, 'No field changed.'),
                )
              : null,
          );
        }),
      ),
    );
  }

  function renderActions(a: Alert): void {
    const parts: HTMLElement[] = [];
    const live = a.state !== 'cancelled' && a.state !== 'expired';
    if (live && a.state === 'pending-approval' && can.approve(session)) parts.push(approveForm());
    if (live && can.update(session)) parts.push(updateForm(a));
    if (live && can.cancel(session)) parts.push(cancelForm());
    show(actions, parts.length ? [h('h2', null, 'Actions'), ...parts] : null);
  }

  function approveForm(): HTMLElement {
    const result = h('p', { role: 'alert', class: 'result' });
    const form = h(
      'form',
      {
        class: 'card',
        'aria-labelledby': 'approve-title',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const note = (form.querySelector('#approve-note') as HTMLTextAreaElement).value.trim();
          try {
            await call('POST', `/v1/alerts/${id}/approve`, { body: note ? { note } : {} });
            ctx.announce('Approved: the alert is going out.');
            await refresh(true);
          } catch (error) {
            show(result, `Not approved: ${(error as Error).message}`);
          }
        },
      },
      h('h3', { id: 'approve-title' }, 'Approve'),
      field('Note (optional)', textarea('approve-note', 2, { maxlength: '1000' })),
      h('button', { type: 'submit', class: 'primary' }, 'Approve and send'),
      result,
    );
    return form;
  }

  function updateForm(a: Alert): HTMLElement {
    const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
    const result = h('p', { role: 'status', class: 'result' });
    let pending: { body: string; key: string } | undefined;
    const form = h(
      'form',
      { novalidate: true, 'aria-labelledby': 'update-title' },
      summary,
      field('Headline', input('u-headline', { value: a.headline, maxlength: '160' })),
      field('Description', textarea('u-description', 4, { value: a.description })),
      field('Instruction', textarea('u-instruction', 2, { value: a.instruction ?? '' })),
      h(
        'div',
        { class: 'row' },
        field('Severity', select('u-severity', SEVERITIES, a.severity)),
        field('Urgency', select('u-urgency', URGENCIES, a.urgency)),
        field('Certainty', select('u-certainty', CERTAINTIES, a.certainty)),
      ),
      h('button', { type: 'submit', class: 'primary' }, 'Send update'),
      result,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      summary.hidden = true;
      const current = publicAlert!;
      const patch: Record<string, string | null> = {};
      for (const key of [
        'headline',
        'description',
        'instruction',
        'severity',
        'urgency',
        'certainty',
      ] as const) {
        const v = (form.querySelector(`#u-${key}`) as HTMLInputElement).value.trim();
        const was = (current[key] as string | undefined) ?? '';
        if (v !== was) patch[key] = v === '' && key === 'instruction' ? null : v;
      }
      if (Object.keys(patch).length === 0) {
        show(result, 'Nothing changed: edit a field first.');
        return;
      }
      const body = JSON.stringify(patch);
      if (pending?.body !== body) pending = { body, key: newIdempotencyKey() };
      try {
        await call('POST', `/v1/alerts/${id}/updates`, {
          body: patch,
          headers: { 'if-match': etag ?? `"${current.version}"`, 'idempotency-key': pending.key },
        });
        pending = undefined;
        ctx.announce('Update sent.');
        show(result, 'Update sent.');
        await refresh(true);
      } catch (error) {
        if (error instanceof ApiError && error.errors.length) {
          errorSummary(
            summary,
            'The update was not sent: fix the marked fields.',
            showFieldErrors(form, 'u-', error.errors),
          );
        } else if (error instanceof ApiError && error.status === 412) {
          show(result, `Not sent: ${error.detail} The alert has been reloaded; check it and send again.`);
          await refresh(true);
        } else show(result, `Not sent: ${(error as Error).message}`);
      }
    });
    return h('details', { class: 'card' }, h('summary', { id: 'update-title' }, 'Update this alert'), form);
  }

  function cancelForm(): HTMLElement {
    const result = h('p', { role: 'status', class: 'result' });
    const key = newIdempotencyKey();
    const form = h(
      'form',
      { 'aria-labelledby': 'cancel-title', class: 'card' },
      h('h3', { id: 'cancel-title' }, 'Cancel'),
      field(
        'Reason (optional)',
        input('c-reason', { maxlength: '500' }),
        'Sent to every channel as a cancellation notice.',
      ),
      h('button', { type: 'submit', class: 'danger' }, 'Cancel this alert'),
      result,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const reason = (form.querySelector('#c-reason') as HTMLInputElement).value.trim();
      try {
        await call('POST', `/v1/alerts/${id}/cancel`, {
          body: reason ? { reason } : {},
          headers: { 'idempotency-key': key },
        });
        ctx.announce('Alert cancelled.');
        await refresh(true);
      } catch (error) {
        show(result, `Not cancelled: ${(error as Error).message}`);
      }
    });
    return form;
  }

  async function renderAudit(): Promise<void> {
    const { body } = await call<{ entries: AuditEntry[] }>('GET', `/v1/alerts/${id}/audit`);
    show(
      audit,
      h('h2', { id: 'audit-title' }, 'Audit log'),
      table(
        `${body.entries.length} entries, oldest first`,
        ['When', 'Who', 'What', 'Version', 'Channel', 'Recipient', 'Detail'],
        body.entries.map((e) => [
          formatTime(e.at),
          e.actor,
          e.action,
          String(e.version),
          e.channel ?? '',
          e.recipient ?? '',
          e.detail ?? '',
        ]),
      ),
    );
  }

  async function refresh(reloadForms: boolean): Promise<void> {
    clearTimeout(timer);
    // A new version, or a step that went out and is now what the public reads.
    const before = `${alert?.version} ${publicAlert?.version}`;
    timeZone = await zoneRead;
    await load();
    const a = alert!;
    const changed = before !== `${a.version} ${publicAlert!.version}`;
    renderHeader(publicAlert!);
    steps.render(a, etag, timeZone);
    if (reloadForms || changed) renderActions(publicAlert!);
    const settled = await refreshStatus();
    await renderThread(a);
    // Receipts and the audit log are read once per version, and again when its fan-out has settled.
    if (reloadForms || changed || (settled && !wasSettled)) {
      renderReceipts(receipts, ctx, id, a);
      import('./impact')
        .then((m) => m.renderImpact(impact, id))
        .catch((error: unknown) =>
          show(impact, h('h2', { id: 'impact-title' }, 'Impact'), h('p', { class: 'error' }, String(error))),
        );
      if (can.audit(session)) await renderAudit();
    }
    wasSettled = settled;
    if (stopped) return;
    if (!settled)
      timer = setTimeout(
        () => {
          refresh(false).catch(() => undefined);
        },
        waitingForQuietHours ? QUIET_HOURS_POLL_MS : POLL_MS,
      );
    else if (a.nextPublishAt) watchWaitingSteps(a.nextPublishAt);
  }

  /** Reads the alert alone, and draws everything again only when a step changed (went out, added, removed). */
  function watchWaitingSteps(next: string): void {
    const dueIn = Date.parse(next) - Date.now() + 3000;
    timer = setTimeout(
      async () => {
        try {
          const { body } = await call<Alert>('GET', `/v1/alerts/${id}`);
          if (stopped) return;
          if (timelineSignature(body) !== timelineSignature(alert!)) await refresh(false);
          else if (body.nextPublishAt) watchWaitingSteps(body.nextPublishAt);
        } catch {
          // A failed read is tried again on the next beat.
          if (!stopped) watchWaitingSteps(next);
        }
      },
      Math.min(WAITING_POLL_MAX_MS, Math.max(WAITING_POLL_MIN_MS, dueIn)),
    );
  }

  renderAlertTips(tips, id).catch((error: unknown) => {
    show(
      tips,
      h('h2', { id: 'alert-tips-title' }, 'Tips from residents'),
      h('p', { class: 'error' }, (error as Error).message),
    );
  });
  refresh(true).catch((error: unknown) => {
    show(statusBody, h('p', { class: 'error' }, (error as Error).message));
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
