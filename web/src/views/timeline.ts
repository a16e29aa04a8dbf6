/**
 * An alert's timeline: its versions in the order they go (or went) out, on the agency's clock. What went out and
 * when; what waits (its time, who scheduled it, whether a supervisor must approve it first); and what was replaced or
 * withdrawn before it went out, still listed, struck through and said in words, because an auditor must see it.
 * An officer adds a step (an update with its own time), edits a waiting one (an update that `replaces` it) or removes
 * one (DELETE, after a question on the page); after each the alert view reloads the alert.
 */
import { ApiError, call, newIdempotencyKey } from '../api';
import type { Context } from '../context';
import { h, show } from '../dom';
import { clearErrors, errorSummary, field, input, showFieldErrors, textarea } from '../form';
import { inTimeOrder, isWaiting, MISSING_TIME, timelineSignature, timeOf, whenOf } from '../schedule';
import { can } from '../session';
import type { Alert, AlertVersion, VersionSummary } from '../types';
import { type WhenFields, whenFields } from '../when-fields';

const STATE_WORDS: Record<string, string> = {
  sent: 'sent',
  dispatching: 'going out',
  scheduled: 'scheduled',
  'pending-approval': 'pending approval',
  superseded: 'replaced',
  withdrawn: 'withdrawn',
};

function whenSaid(v: VersionSummary, at: string): string {
  switch (v.state) {
    case 'sent':
      return `Sent ${at}`;
    case 'dispatching':
      return `Going out since ${at}`;
    case 'scheduled':
      return `Scheduled for ${at}`;
    case 'pending-approval':
      return v.publishAt
        ? `Scheduled for ${at}, once a supervisor approves it`
        : 'Waits for a supervisor’s approval, then goes out at once';
    case 'superseded':
      return `Replaced before it went out (it was for ${at})`;
    case 'withdrawn':
      return `Withdrawn before it went out (it was for ${at})`;
    default:
      return `${v.state}, ${at}`;
  }
}

export interface Timeline {
  section: HTMLElement;
  /** Draws the alert's timeline, when it changed since it was last drawn. */
  render(a: Alert, etag: string | undefined, timeZone: string): void;
}

export function timeline(ctx: Context, id: string, reload: () => Promise<void>): Timeline {
  const session = ctx.session!;
  let alert: Alert | undefined;
  let etag: string | undefined;
  let timeZone = 'UTC';
  let drawn = '';
  let adderShown = false;
  /** The step whose edit form or removal question is open: kept open when the list is redrawn beneath it. */
  let open: { version: number; node: HTMLElement } | undefined;
  /** The submission in flight or last refused: a retry of the same body reuses its Idempotency-Key. */
  let pending: { body: string; key: string } | undefined;

  const heading = h('h2', { id: 'timeline-title', tabindex: '-1' }, 'Timeline');
  const zoneHint = h('p', { class: 'hint' });
  const status = h('p', { role: 'status', class: 'result' });
  const list = h('ol', { class: 'timeline' });
  const adder = h('div');
  const section = h(
    'section',
    { 'aria-labelledby': 'timeline-title' },
    heading,
    zoneHint,
    status,
    list,
    adder,
  );

  const ifMatch = () => etag ?? `"${alert!.version}"`;

  /** Says what happened where the officer's focus lands: the timeline's heading, its status just below. */
  async function afterAction(message: string): Promise<void> {
    try {
      await reload();
    } catch (error) {
      show(status, `${message} The alert could not be read again: ${(error as Error).message}`);
      heading.focus();
      return;
    }
    show(status, message);
    heading.focus();
  }

  function draw(): void {
    const a = alert!;
    if (open && !a.versions.some((v) => v.version === open!.version && isWaiting(v))) {
      show(
        status,
        `Version ${open.version} went out or changed meanwhile; the timeline shows it as it is now.`,
      );
      open = undefined;
    }
    show(list, [...a.versions].sort(inTimeOrder).map(step));
  }

  function step(v: VersionSummary): HTMLElement {
    const gone = v.state === 'superseded' || v.state === 'withdrawn';
    const waiting = isWaiting(v);
    // A visually hidden name after "Edit" / "Remove": each button says which step it acts on.
    const which = h('span', { class: 'visually-hidden' }, ` version ${v.version}: ${v.headline}`);
    return h(
      'li',
      { class: `step step-${v.state}` },
      h('p', { class: 'step-when' }, whenSaid(v, whenOf(timeOf(v), timeZone))),
      h('p', { class: 'step-headline' }, gone ? h('s', null, v.headline) : v.headline),
      h(
        'p',
        { class: 'meta' },
        `Version ${v.version} · ${v.msgType} · ${waiting ? 'scheduled' : 'written'} by ${v.author} `,
        h('span', { class: `badge state-${v.state}` }, STATE_WORDS[v.state] ?? v.state),
      ),
      waiting && (can.update(session) || can.cancel(session))
        ? h(
            'div',
            { class: 'actions' },
            can.update(session)
              ? h(
                  'button',
                  { type: 'button', class: 'secondary', id: `edit-${v.version}`, onclick: () => openEdit(v) },
                  'Edit',
                  which.cloneNode(true),
                )
              : null,
            can.cancel(session)
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    id: `remove-${v.version}`,
                    onclick: () => openRemove(v),
                  },
                  'Remove',
                  which,
                )
              : null,
          )
        : null,
      open?.version === v.version ? open.node : null,
    );
  }

  function close(focusId: string): void {
    open = undefined;
    draw();
    section.querySelector<HTMLElement>(`#${focusId}`)?.focus();
  }

  async function openEdit(v: VersionSummary): Promise<void> {
    show(status, `Reading version ${v.version}…`);
    let full: AlertVersion;
    try {
      full = (await call<AlertVersion>('GET', `/v1/alerts/${id}/versions/${v.version}`)).body;
    } catch (error) {
      show(status, `Version ${v.version} could not be read: ${(error as Error).message}`);
      return;
    }
    show(status, '');
    open = { version: v.version, node: editForm(full) };
    draw();
    section.querySelector<HTMLElement>('#e-headline')?.focus();
  }

  function openRemove(v: VersionSummary): void {
    open = { version: v.version, node: removeQuestion(v) };
    draw();
    section.querySelector<HTMLElement>('#remove-question')?.focus();
  }

  /** Sends a step form as an update: its text as typed, its time as chosen; the API's errors beside their fields. */
  async function sendStep(
    form: HTMLFormElement,
    prefix: 'e-' | 's-',
    when: WhenFields,
    replaces: number | undefined,
    summary: HTMLElement,
    result: HTMLElement,
  ): Promise<Alert | undefined> {
    clearErrors(form);
    summary.hidden = true;
    const text = (name: string) =>
      (form.querySelector<HTMLInputElement>(`#${prefix}${name}`)?.value ?? '').trim();
    const patch = {
      headline: text('headline'),
      description: text('description'),
      // Empty means none: a step's content is merged over the version before it, whose instruction may not fit.
      instruction: text('instruction') || null,
      ...when.read(),
      ...(replaces !== undefined ? { replaces } : {}),
    };
    if (patch.publishAt === '') {
      errorSummary(
        summary,
        'Not saved: fix the marked field.',
        showFieldErrors(form, prefix, [MISSING_TIME]),
      );
      return undefined;
    }
    const body = JSON.stringify(patch);
    if (pending?.body !== body) pending = { body, key: newIdempotencyKey() };
    show(result, 'Saving…');
    try {
      const { body: saved } = await call<Alert>('POST', `/v1/alerts/${id}/updates`, {
        body: patch,
        headers: { 'if-match': ifMatch(), 'idempotency-key': pending.key },
      });
      pending = undefined;
      show(result, '');
      return saved;
    } catch (error) {
      show(result, '');
      if (error instanceof ApiError && error.errors.length)
        errorSummary(
          summary,
          'Not saved: fix the marked fields.',
          showFieldErrors(form, prefix, error.errors),
        );
      else if (error instanceof ApiError && (error.status === 409 || error.status === 412)) {
        // Someone else changed the alert, or the step went out: read it again before anything else is tried.
        await reload().catch(() => undefined);
        if (form.isConnected) show(result, `Not saved: ${error.detail} The alert has been read again.`);
        else {
          show(status, `Not saved: ${error.detail}`);
          heading.focus();
        }
      } else show(result, `Not saved: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** What a new version's time and place on the timeline are, in words. */
  function savedSaid(saved: Alert, before: Alert): string {
    const v = saved.versions.find((s) => s.version === saved.version);
    const when = v?.publishAt ? `scheduled for ${whenOf(v.publishAt, timeZone)}` : 'going out now';
    const waitingBefore = new Set(before.versions.filter(isWaiting).map((s) => s.version));
    const replaced = saved.versions
      .filter((s) => s.state === 'superseded' && waitingBefore.has(s.version))
      .map((s) => s.version);
    return `Saved as version ${saved.version}, ${when}.${
      replaced.length
        ? ` It takes the place of version ${replaced.join(' and ')}, which will not go out.`
        : ''
    }`;
  }

  function errorBox(): HTMLElement {
    return h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
  }

  function editForm(v: AlertVersion): HTMLElement {
    const summary = errorBox();
    const result = h('p', { role: 'status', class: 'result' });
    const when = whenFields('e-', {
      legend: 'When it goes out',
      timeZone,
      scheduled: true,
      at: v.publishAt,
    });
    const form = h(
      'form',
      { novalidate: true, class: 'card', 'aria-labelledby': 'edit-title' },
      h('h3', { id: 'edit-title' }, `Edit version ${v.version}`),
      summary,
      h(
        'p',
        { class: 'hint' },
        'Saving writes a new version in its place; this one stays listed as replaced and never goes out.',
      ),
      field('Headline', input('e-headline', { value: v.headline, maxlength: '160' })),
      field('Description', textarea('e-description', 4, { value: v.description })),
      field('Instruction (optional)', textarea('e-instruction', 2, { value: v.instruction ?? '' })),
      when.element,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Save changes'),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => close(`edit-${v.version}`) },
          'Keep it as it was',
        ),
      ),
      result,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const before = alert!;
      const saved = await sendStep(form, 'e-', when, v.version, summary, result);
      if (!saved) return;
      open = undefined;
      await afterAction(savedSaid(saved, before));
    });
    return form;
  }

  function removeQuestion(v: VersionSummary): HTMLElement {
    const result = h('p', { role: 'status', class: 'result' });
    const yes = h('button', { type: 'button', class: 'danger' }, `Remove version ${v.version}`);
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await call('DELETE', `/v1/alerts/${id}/versions/${v.version}`, {
          headers: { 'if-match': ifMatch() },
        });
        open = undefined;
        await afterAction(`Version ${v.version} removed: it will not go out. It stays listed as withdrawn.`);
      } catch (error) {
        yes.disabled = false;
        if (error instanceof ApiError && (error.status === 409 || error.status === 412)) {
          open = undefined;
          await afterAction(`Not removed: ${error.detail}`);
        } else show(result, `Not removed: ${(error as Error).message}`);
      }
    });
    return h(
      'div',
      { class: 'card', role: 'group', 'aria-labelledby': 'remove-question' },
      h(
        'p',
        { id: 'remove-question', tabindex: '-1' },
        `Remove version ${v.version}, “${v.headline}”? It will never go out; the timeline keeps it, marked withdrawn.`,
      ),
      h(
        'div',
        { class: 'actions' },
        yes,
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => close(`remove-${v.version}`) },
          'Keep it',
        ),
      ),
      result,
    );
  }

  function addForm(): HTMLElement {
    const summary = errorBox();
    const result = h('p', { role: 'status', class: 'result' });
    const when = whenFields('s-', { legend: 'When it goes out', timeZone, scheduled: true });
    const form = h(
      'form',
      { novalidate: true, 'aria-labelledby': 'add-step-title' },
      summary,
      h(
        'p',
        { class: 'hint' },
        'A step is an update with its own time, such as “closing now” at 08:00 and “reopened” at 14:00. What it does not change is taken from the version out by then.',
      ),
      field('Headline', input('s-headline', { maxlength: '160' })),
      field('Description', textarea('s-description', 4)),
      field('Instruction (optional)', textarea('s-instruction', 2), 'Empty: the step gives no instruction.'),
      when.element,
      h('button', { type: 'submit', class: 'primary' }, 'Add step'),
      result,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const before = alert!;
      const saved = await sendStep(form, 's-', when, undefined, summary, result);
      if (!saved) return;
      // A fresh, closed form for the next step.
      show(adder, addForm());
      await afterAction(savedSaid(saved, before));
    });
    return h('details', { class: 'card' }, h('summary', { id: 'add-step-title' }, 'Add a step'), form);
  }

  return {
    section,
    render(a, tag, zone) {
      alert = a;
      etag = tag;
      const signature = `${zone} ${timelineSignature(a)}`;
      if (signature !== drawn) {
        drawn = signature;
        timeZone = zone;
        show(
          zoneHint,
          `Times on the agency’s clock (${zone}). Steps replaced or withdrawn before they went out stay listed: they were never sent.`,
        );
        draw();
      }
      const addable = a.state !== 'cancelled' && a.state !== 'expired' && can.update(session);
      if (addable !== adderShown) {
        adderShown = addable;
        show(adder, addable ? addForm() : null);
      }
    },
  };
}
