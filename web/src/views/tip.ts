/**
 * One tip and its thread: what the resident sent and every reply, with its time, author and delivery status; reply,
 * assign, close and reopen for officers and supervisors (auditors read). A reply goes back the way the tip came (an
 * SMS from the agency's number, an email); on social it can only be public, so it takes a tick and a confirmation of
 * the very text that will be posted. Every read of a thread is audited (who read which tip), so it is not polled
 * for ever: only while a reply is still on its way (queued, sending), every 10 s with the tab visible.
 */
import { ApiError, call, newIdempotencyKey } from '../api';
import type { Context } from '../context';
import { h, show } from '../dom';
import { field, input, textarea } from '../form';
import { can } from '../session';
import { fromLabel, isSocial, poll, refreshOpenCount, sourceName, time, tipState } from '../tips';
import type { Alert, Tip, TipMessage } from '../types';

/** What a reply does, said before it is written: where it goes and who sees it. */
function replyHint(t: Tip): string {
  if (t.replyBy === 'sms')
    return `Sent by SMS from the agency's number to ${fromLabel(t)}, and kept in this thread. Their number is never shown here.`;
  if (t.replyBy === 'email')
    return `Sent by email to the address ${fromLabel(t)} left, and kept in this thread. The address is never shown here.`;
  return `On ${sourceName(t.source)} a reply can only be public: it is posted under the agency's post, in the agency's name, for everyone to see.`;
}

/** Why no reply can be written, when the API says there is no way back (`replyBy` absent). */
const unanswerable = (t: Tip): string =>
  t.contactErased
    ? "This tip cannot be answered: the tipster's contact was erased at the end of the retention period."
    : 'This tip cannot be answered: the tipster left no way to reach them.';

/** Reads of a thread while a reply is on its way, at most: 3 minutes, then the button reads it on demand. */
const MAX_WATCH_READS = 18;

/** A reply still on its way: the thread is read again until it has gone or failed. */
const pending = (t: Tip | undefined): boolean =>
  !!t?.messages.some((m) => m.direction === 'out' && (m.status === 'queued' || m.status === 'sending'));

/** The thread as the resident and the agency wrote it; the tip's own text leads it when the API lists it apart. */
function threadOf(t: Tip): TipMessage[] {
  const first = t.messages[0];
  return first?.direction === 'in' && first.text === t.text
    ? t.messages
    : [{ direction: 'in', text: t.text, at: t.receivedAt }, ...t.messages];
}

function problem(verb: string, error: unknown): string {
  if (verb === 'Not sent' && error instanceof ApiError && error.status === 409)
    return `${verb}: this tip cannot be answered. ${error.detail}`;
  return `${verb}: ${(error as Error).message}`;
}

export function tipView(main: HTMLElement, ctx: Context): () => void {
  const id = decodeURIComponent(ctx.params[0]!);
  const session = ctx.session!;
  const answers = can.answerTips(session);
  let tip: Tip | undefined;
  let alertName: string | undefined;
  let actionsKey = '';
  let replyKey: { body: string; key: string } | undefined;
  let stopped = false;
  let shown = '';
  let stopPolling: (() => void) | undefined;
  let watchReads = 0;

  const title = h('h1', { tabindex: '-1' }, 'Tip');
  const facts = h('div');
  const messages = h('ol', { class: 'messages', 'aria-labelledby': 'messages-title' });
  // Outcomes of actions: the button pressed may be gone after the redraw, so focus comes here and it is read out.
  const outcome = h('p', { role: 'status', tabindex: '-1', class: 'live' });
  const actions = h('div');
  const loadError = h('p', { role: 'alert', class: 'error' });

  async function nameAlert(t: Tip): Promise<void> {
    if (t.alertId && alertName === undefined) {
      alertName = await call<Alert>('GET', `/v1/alerts/${t.alertId}`)
        .then((r) => r.body.headline)
        .catch(() => '');
    }
  }

  function renderFacts(t: Tip): void {
    show(title, `Tip ${t.reference}`);
    document.title = `Tip ${t.reference} · Herald`;
    show(
      facts,
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'From'),
        h('dd', null, fromLabel(t)),
        h('dt', null, 'Source'),
        h('dd', null, sourceName(t.source)),
        h('dt', null, 'Received'),
        h('dd', null, time(t.receivedAt)),
        h('dt', null, 'State'),
        h('dd', { id: 'tip-state' }, tipState(t.state)),
        h('dt', null, 'Assigned to'),
        h('dd', { id: 'tip-assignee' }, t.assignee ?? 'nobody'),
        t.alertId
          ? [
              h('dt', null, 'About'),
              h('dd', null, h('a', { href: `#/alerts/${t.alertId}` }, alertName || 'the alert')),
            ]
          : null,
      ),
    );
    show(
      messages,
      threadOf(t).map((m) =>
        h(
          'li',
          { class: `msg msg-${m.direction}` },
          h(
            'p',
            { class: 'meta' },
            h(
              'strong',
              null,
              m.direction === 'in' ? `From ${fromLabel(t)}` : `Reply by ${m.author ?? 'the agency'}`,
            ),
            ' · ',
            time(m.at),
            m.public ? ' · public' : '',
            m.status ? ` · ${m.status}${m.reason ? `: ${m.reason}` : ''}` : '',
          ),
          h('p', { class: 'message' }, m.text),
        ),
      ),
    );
  }

  /** The forms are redrawn only when what they offer changes, keeping a half-written reply across refreshes. */
  function renderActions(t: Tip): void {
    const key = `${t.state}/${t.assignee ?? ''}/${t.replyBy ?? ''}`;
    if (key === actionsKey) return;
    actionsKey = key;
    if (!answers) {
      show(actions, h('p', { class: 'notice' }, 'You can read tips; officers and supervisors answer them.'));
      return;
    }
    const draft = (actions.querySelector('#reply-text') as HTMLTextAreaElement | null)?.value ?? '';
    show(
      actions,
      t.state === 'closed'
        ? h('p', { class: 'notice' }, 'This tip is closed: reopen it to reply.')
        : t.replyBy
          ? replyForm(t, draft)
          : h('p', { class: 'notice' }, unanswerable(t)),
      assignForm(t),
      t.state === 'open' ? closeForm() : reopenForm(),
    );
  }

  /** Runs an action, shows the tip as it answers, and says what happened where focus can find it. */
  async function act(path: string, body: unknown, done: string, result: HTMLElement, verb: string) {
    show(result);
    try {
      apply((await call<Tip>('POST', `/v1/tips/${encodeURIComponent(id)}/${path}`, { body })).body);
    } catch (error) {
      show(result, problem(verb, error));
      return;
    }
    show(outcome, done);
    outcome.focus();
    refreshOpenCount().catch(() => undefined);
  }

  function replyForm(t: Tip, draft: string): HTMLElement {
    const social = isSocial(t.source);
    const result = h('p', { role: 'alert', class: 'result' });
    const text = textarea('reply-text', 4, { maxlength: '1000', value: draft });
    const publicBox = h('input', {
      type: 'checkbox',
      id: 'reply-public',
      'aria-describedby': 'reply-public-error',
    });
    const confirmBox = h('section', {
      class: 'card confirm',
      hidden: true,
      'aria-labelledby': 'confirm-title',
    });
    const hideConfirm = () => {
      confirmBox.hidden = true;
    };
    const send = async (body: { text: string; public?: true }) => {
      const json = JSON.stringify(body);
      if (replyKey?.body !== json) replyKey = { body: json, key: newIdempotencyKey() };
      show(result);
      let answered: Tip;
      try {
        answered = (
          await call<Tip>('POST', `/v1/tips/${encodeURIComponent(id)}/replies`, {
            body,
            headers: { 'idempotency-key': replyKey.key },
          })
        ).body;
      } catch (error) {
        show(result, problem('Not sent', error));
        return;
      }
      replyKey = undefined;
      // The API answers 201 even when the provider refused: the thread records it, and so must the officer know.
      const last = answered.messages.filter((m) => m.direction === 'out').at(-1);
      if (last?.status === 'failed') {
        apply(answered);
        show(
          result,
          `Not sent: ${last.reason ?? 'the provider refused it'}. It is kept in the thread as failed.`,
        );
        return;
      }
      text.value = '';
      publicBox.checked = false;
      hideConfirm();
      apply(answered);
      show(
        outcome,
        last?.status === 'queued'
          ? `Public reply queued: it will be posted on ${sourceName(t.source)} under the agency's post.`
          : body.public
            ? `Reply posted publicly on ${sourceName(t.source)}.`
            : `Reply sent to ${fromLabel(t)}.`,
      );
      outcome.focus();
    };
    const form = h(
      'form',
      { 'aria-labelledby': 'reply-title', novalidate: true },
      h('h2', { id: 'reply-title' }, 'Reply'),
      field('Your reply', text, replyHint(t)),
      social
        ? h(
            'div',
            { class: 'choice' },
            publicBox,
            h('label', { for: 'reply-public' }, "Reply publicly under the agency's post"),
            h('p', { class: 'field-error', id: 'reply-public-error' }),
          )
        : null,
      h('button', { type: 'submit', class: 'primary' }, social ? 'Review the public reply' : 'Send reply'),
      result,
    );
    form.addEventListener('input', hideConfirm);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      for (const el of form.querySelectorAll('.field-error')) el.replaceChildren();
      text.removeAttribute('aria-invalid');
      publicBox.removeAttribute('aria-invalid');
      const reply = text.value.trim();
      if (!reply) {
        text.setAttribute('aria-invalid', 'true');
        show(form.querySelector('#reply-text-error')!, 'Write a reply first.');
        text.focus();
        return;
      }
      if (!social) {
        await send({ text: reply });
        return;
      }
      if (!publicBox.checked) {
        publicBox.setAttribute('aria-invalid', 'true');
        show(
          form.querySelector('#reply-public-error')!,
          `A reply on ${sourceName(t.source)} is seen by everyone: tick this box to reply publicly.`,
        );
        publicBox.focus();
        return;
      }
      // The confirmation shows the very text that will be posted; editing the reply takes it away again.
      show(
        confirmBox,
        h('h3', { id: 'confirm-title', tabindex: '-1' }, 'Confirm the public reply'),
        h(
          'p',
          null,
          `This will be posted on ${sourceName(t.source)} under the agency's post, in reply to ${fromLabel(t)}, for everyone to see:`,
        ),
        h('p', { class: 'message' }, reply),
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'primary', onclick: () => send({ text: reply, public: true }) },
            `Post publicly on ${sourceName(t.source)}`,
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                hideConfirm();
                text.focus();
              },
            },
            'Go back and edit',
          ),
        ),
      );
      confirmBox.hidden = false;
      confirmBox.querySelector<HTMLElement>('h3')?.focus();
    });
    return h('div', null, form, confirmBox);
  }

  function assignForm(t: Tip): HTMLElement {
    const result = h('p', { role: 'alert', class: 'result' });
    const to = input('assign-to', { maxlength: '100', autocomplete: 'off' });
    const mine = t.assignee === session.sub || t.assignee === session.name;
    const assign = (who: string | null) =>
      act(
        'assign',
        { to: who },
        who ? `Assigned to ${who}.` : 'Nobody is assigned now.',
        result,
        'Not assigned',
      );
    return h(
      'form',
      {
        'aria-labelledby': 'assign-title',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const who = to.value.trim();
          to.removeAttribute('aria-invalid');
          show(to.parentElement!.querySelector('.field-error')!);
          if (who) assign(who).catch(() => undefined);
          else {
            to.setAttribute('aria-invalid', 'true');
            show(to.parentElement!.querySelector('.field-error')!, 'Write a name first.');
            to.focus();
          }
        },
      },
      h('h2', { id: 'assign-title' }, 'Assign'),
      mine
        ? h('p', null, 'Assigned to you.')
        : h(
            'button',
            { type: 'button', class: 'secondary', onclick: () => assign(session.sub) },
            'Assign to me',
          ),
      field('Assign to (name)', to, 'Their sign-in name, as Herald knows them (e.g. duty-officer-2).'),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'secondary' }, 'Assign'),
        t.assignee
          ? h('button', { type: 'button', class: 'secondary', onclick: () => assign(null) }, 'Unassign')
          : null,
      ),
      result,
    );
  }

  function closeForm(): HTMLElement {
    const result = h('p', { role: 'alert', class: 'result' });
    const note = textarea('close-note', 2, { maxlength: '1000' });
    return h(
      'form',
      {
        'aria-labelledby': 'close-title',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const n = note.value.trim();
          act('close', n ? { note: n } : {}, 'Tip closed.', result, 'Not closed').catch(() => undefined);
        },
      },
      h('h2', { id: 'close-title' }, 'Close'),
      field('Note (optional)', note, 'Kept in the tip’s audit trail; the resident does not see it.'),
      h('button', { type: 'submit', class: 'secondary' }, 'Close tip'),
      result,
    );
  }

  function reopenForm(): HTMLElement {
    const result = h('p', { role: 'alert', class: 'result' });
    return h(
      'form',
      {
        'aria-labelledby': 'reopen-title',
        onsubmit: (e: Event) => {
          e.preventDefault();
          act('reopen', {}, 'Tip reopened.', result, 'Not reopened').catch(() => undefined);
        },
      },
      h('h2', { id: 'reopen-title' }, 'Reopen'),
      h('button', { type: 'submit', class: 'secondary' }, 'Reopen tip'),
      result,
    );
  }

  /** Shows `t`, redrawn only where something changed, so a screen reader's place and the focus are kept. */
  function apply(t: Tip): void {
    if (stopped) return;
    tip = t;
    show(loadError);
    const seen = JSON.stringify(t);
    if (seen !== shown) renderFacts(t);
    shown = seen;
    renderActions(t);
    watch();
  }

  /** Reads the thread again every 10 s while a reply is on its way, and stops once none is (or after a while). */
  function watch(): void {
    const on = pending(tip) && watchReads < MAX_WATCH_READS;
    if (on && !stopPolling)
      stopPolling = poll(async () => {
        watchReads++;
        await refresh();
      });
    else if (!on && stopPolling) {
      stopPolling();
      stopPolling = undefined;
    }
  }

  async function refresh(): Promise<void> {
    const t = (await call<Tip>('GET', `/v1/tips/${encodeURIComponent(id)}`)).body;
    await nameAlert(t);
    apply(t);
  }

  async function readAgain(): Promise<void> {
    watchReads = 0;
    try {
      await refresh();
      show(outcome, 'Thread read again.');
    } catch (error) {
      show(loadError, `The tip could not be read: ${(error as Error).message}`);
    }
  }

  show(
    main,
    title,
    facts,
    h('h2', { id: 'messages-title' }, 'Messages'),
    messages,
    h('button', { type: 'button', class: 'secondary', onclick: () => readAgain() }, 'Check for new messages'),
    outcome,
    actions,
    loadError,
    h('p', null, h('a', { href: '#/inbox' }, 'Back to the inbox')),
  );
  refresh().catch((error: unknown) =>
    show(loadError, `The tip could not be loaded: ${(error as Error).message}`),
  );
  return () => {
    stopped = true;
    stopPolling?.();
  };
}
