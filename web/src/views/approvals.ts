/**
 * The supervisor's queue: alerts whose current version waits for a second person. The API refuses an approval
 * by the version's author (403, the two-person rule); the console shows that answer beside the alert.
 */
import { call } from '../api';
import type { Context } from '../context';
import { formatTime, h, show } from '../dom';
import { field, textarea } from '../form';
import type { Alert } from '../types';
import { testBanner } from './compose';

type Item = Omit<Alert, 'versions'>;
/** The list is read newest first; a held alert older than this many pages is rare enough to look for by hand. */
const MAX_PAGES = 5;

export function approvalsView(main: HTMLElement, ctx: Context): undefined {
  const list = h('div');
  const count = h('p', { role: 'status' });

  function card(a: Item): HTMLElement {
    const result = h('p', { role: 'alert', class: 'result' });
    const noteId = `note-${a.id}`;
    const form = h(
      'form',
      {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const note = (form.querySelector(`#${noteId}`) as HTMLTextAreaElement).value.trim();
          try {
            await call('POST', `/v1/alerts/${a.id}/approve`, { body: note ? { note } : {} });
            ctx.announce(`Approved: ${a.headline}`);
            ctx.navigate(`#/alerts/${a.id}`);
          } catch (error) {
            show(result, `Not approved: ${(error as Error).message}`);
          }
        },
      },
      field('Note (optional)', textarea(noteId, 2, { maxlength: '1000' })),
      h('button', { type: 'submit', class: 'primary' }, 'Approve and send'),
      result,
    );
    return h(
      'article',
      { class: 'card', 'aria-labelledby': `h-${a.id}` },
      h('h2', { id: `h-${a.id}` }, h('a', { href: `#/alerts/${a.id}` }, a.headline)),
      testBanner(a.status),
      h(
        'p',
        { class: 'meta' },
        `${a.event} · ${a.severity} · ${a.status} · version ${a.version} · written by ${a.author} · ${formatTime(a.sent)}`,
      ),
      h('p', { class: 'message' }, a.description),
      form,
    );
  }

  async function load(): Promise<void> {
    const held: Item[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const params = new URLSearchParams({ limit: '100' });
      if (cursor) params.set('cursor', cursor);
      const { body } = await call<{ items: Item[]; cursor?: string }>('GET', `/v1/alerts?${params}`);
      held.push(...body.items.filter((a) => a.state === 'pending-approval'));
      cursor = body.cursor;
      if (!cursor) break;
    }
    show(
      count,
      held.length
        ? `${held.length} alert${held.length === 1 ? '' : 's'} waiting.`
        : 'Nothing waits for approval.',
    );
    show(list, held.map(card));
  }

  show(
    main,
    h('h1', { tabindex: '-1' }, 'Approvals'),
    h('p', null, 'Alerts held for a second person. You cannot approve an alert you wrote.'),
    h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Refresh'),
    count,
    list,
  );
  load().catch((e: unknown) => show(list, h('p', { class: 'error' }, (e as Error).message)));
  return undefined;
}
