/**
 * The inbox: residents' tips, newest first, a page at a time, filtered by alert, state, source and assignee (the
 * filters live in the URL hash, so a filtered inbox can be bookmarked or sent to a colleague). While it is open and
 * the tab visible it asks for the first page every 10 s: new tips appear without a reload and are announced.
 */
import { call } from '../api';
import type { Context } from '../context';
import { h, show } from '../dom';
import { field, select } from '../form';
import { POLL_MS, poll, refreshOpenCount, SOURCES, sourceName, tipItem } from '../tips';
import type { Alert, Tip, TipList } from '../types';

const PAGE = 25;
const ANY = 'any';

interface Filters {
  alert: string;
  state: string;
  source: string;
  assignee: string;
}

const DEFAULTS: Filters = { alert: ANY, state: 'open', source: ANY, assignee: ANY };

/** `#/inbox?state=open&source=sms&alert=…&assignee=…`; an inbox opened bare shows what is open. */
function readFilters(hash: string): Filters {
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  return {
    alert: q.get('alert') || DEFAULTS.alert,
    state: q.get('state') || DEFAULTS.state,
    source: q.get('source') || DEFAULTS.source,
    assignee: q.get('assignee') || DEFAULTS.assignee,
  };
}

export function inboxHash(filters: Partial<Filters>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v && v !== DEFAULTS[k as keyof Filters]) q.set(k, v);
  const s = q.toString();
  return s ? `#/inbox?${s}` : '#/inbox';
}

/** Options read as words ("Any", "Web form", a headline) while their values stay the API's. */
function labelOptions(el: HTMLSelectElement, name: (v: string) => string): void {
  for (const o of el.options) o.textContent = o.value === ANY ? 'Any' : name(o.value);
}

const ASSIGNEE_WORDS: Record<string, string> = { [ANY]: 'Anyone', me: 'Me', unassigned: 'Nobody' };
const assigneeLabel = (v: string): string => ASSIGNEE_WORDS[v] ?? v;
const capital = (v: string): string => v.charAt(0).toUpperCase() + v.slice(1);

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function inboxView(main: HTMLElement, ctx: Context): () => void {
  const session = ctx.session!;
  let filters = readFilters(location.hash);
  let items: Tip[] = [];
  let cursor: string | undefined;
  let fresh = new Set<string>();
  let generation = 0;
  let stopped = false;
  const alertNames = new Map<string, string>();

  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'live' });
  const list = h('ol', { class: 'tips', 'aria-labelledby': 'tips-title' });
  const more = h(
    'button',
    { type: 'button', class: 'secondary', hidden: true, onclick: () => loadMore() },
    'Load older tips',
  );
  const error = h('p', { role: 'alert', class: 'error' });
  const alertSelect = select('f-alert', filters.alert === ANY ? [ANY] : [ANY, filters.alert], filters.alert);
  const assigneeSelect = select('f-assignee', [ANY, 'me', 'unassigned'], filters.assignee);
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Tip filters', onsubmit: (e: Event) => e.preventDefault() },
    field('Alert', alertSelect),
    field('State', select('f-state', ['open', 'closed', ANY], filters.state)),
    field('Source', select('f-source', [ANY, ...SOURCES], filters.source)),
    field('Assigned to', assigneeSelect),
  );
  labelOptions(form.querySelector('#f-source')!, sourceName);
  labelOptions(form.querySelector('#f-state')!, capital);
  for (const o of assigneeSelect.options) o.textContent = assigneeLabel(o.value);
  labelOptions(alertSelect, (v) => alertNames.get(v) ?? `Alert ${v.slice(-6)}`);
  form.addEventListener('change', () => {
    filters = {
      alert: alertSelect.value,
      state: (form.querySelector('#f-state') as HTMLSelectElement).value,
      source: (form.querySelector('#f-source') as HTMLSelectElement).value,
      assignee: assigneeSelect.value,
    };
    // The URL follows the filters without a new history entry or a re-route (which would move focus to the heading).
    history.replaceState(null, '', inboxHash(filters));
    reload();
  });

  function query(): URLSearchParams {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (filters.alert !== ANY) q.set('alertId', filters.alert);
    if (filters.state !== ANY) q.set('state', filters.state);
    if (filters.source !== ANY) q.set('source', filters.source);
    if (filters.assignee === 'me') q.set('assignee', session.sub);
    else if (filters.assignee !== ANY && filters.assignee !== 'unassigned')
      q.set('assignee', filters.assignee);
    return q;
  }

  /** The API filters by assignee but not by "nobody": that one is matched here, on the tips loaded. */
  function matchesAssignee(t: Tip): boolean {
    switch (filters.assignee) {
      case ANY:
        return true;
      case 'me':
        return t.assignee === session.sub;
      case 'unassigned':
        return !t.assignee;
      default:
        return t.assignee === filters.assignee;
    }
  }

  function assigneeOptions(): void {
    const known = [ANY, 'me', 'unassigned'];
    const names = new Set(items.map((t) => t.assignee).filter((a): a is string => !!a));
    if (!known.includes(filters.assignee)) names.add(filters.assignee);
    const wanted = [...known, ...[...names].sort()];
    if ([...assigneeSelect.options].map((o) => o.value).join('\n') === wanted.join('\n')) return;
    show(
      assigneeSelect,
      wanted.map((v) => h('option', { value: v, selected: v === filters.assignee }, assigneeLabel(v))),
    );
  }

  function render(announcement = ''): void {
    const shown = items.filter(matchesAssignee);
    // Focus stays on the tip it was on when the list is redrawn under it.
    const focused = (document.activeElement as HTMLElement | null)?.dataset.tip;
    show(
      list,
      shown.map((t) =>
        tipItem(t, { level: 'h3', alertName: (id) => alertNames.get(id), fresh: fresh.has(t.id) }),
      ),
    );
    if (focused) list.querySelector<HTMLElement>(`[data-tip="${CSS.escape(focused)}"]`)?.focus();
    more.hidden = !cursor;
    assigneeOptions();
    const line = `${announcement}${
      shown.length ? plural(shown.length, 'tip', 'tips') : 'No tips'
    } shown${shown.length < items.length ? ` of ${items.length} loaded` : ''}${cursor ? '; older tips can be loaded' : ''}.`;
    if (status.textContent !== line) status.textContent = line;
  }

  async function reload(): Promise<void> {
    const mine = ++generation;
    fresh = new Set();
    try {
      const { body } = await call<TipList>('GET', `/v1/tips?${query()}`);
      if (mine !== generation || stopped) return;
      items = body.items;
      cursor = body.cursor;
      show(error);
      render();
    } catch (e) {
      if (mine === generation) show(error, `The tips could not be loaded: ${(e as Error).message}`);
    }
  }

  async function loadMore(): Promise<void> {
    if (!cursor) return;
    const mine = generation;
    const q = query();
    q.set('cursor', cursor);
    try {
      const { body } = await call<TipList>('GET', `/v1/tips?${q}`);
      if (mine !== generation || stopped) return;
      const known = new Set(items.map((t) => t.id));
      const added = body.items.filter((t) => !known.has(t.id));
      items.push(...added);
      cursor = body.cursor;
      render();
      // The button may be gone now; the first tip loaded is where reading goes on.
      const first = added.find(matchesAssignee);
      if (first) list.querySelector<HTMLElement>(`[data-tip="${CSS.escape(first.id)}"]`)?.focus();
    } catch (e) {
      show(error, `Older tips could not be loaded: ${(e as Error).message}`);
    }
  }

  /**
   * The first page again, merged into what is shown: tips never seen and newer than the newest shown are new;
   * a tip that left the filter (closed elsewhere while showing open ones) goes; older pages stay as loaded.
   */
  async function refresh(): Promise<void> {
    const mine = generation;
    const { body } = await call<TipList>('GET', `/v1/tips?${query()}`);
    await refreshOpenCount();
    if (mine !== generation || stopped) return;
    const newest = items[0]?.receivedAt ?? '';
    const byId = new Map(body.items.map((t) => [t.id, t]));
    const oldestFresh = body.items.at(-1)?.receivedAt ?? '';
    const known = new Set(items.map((t) => t.id));
    const arrived = body.items.filter((t) => !known.has(t.id) && t.receivedAt > newest);
    const kept = items
      .filter((t) => byId.has(t.id) || (body.cursor !== undefined && t.receivedAt < oldestFresh))
      .map((t) => byId.get(t.id) ?? t);
    const next = [...kept, ...body.items.filter((t) => !known.has(t.id))].sort((a, b) =>
      a.receivedAt === b.receivedAt ? b.id.localeCompare(a.id) : b.receivedAt.localeCompare(a.receivedAt),
    );
    if (!items.length) cursor = body.cursor;
    const changed = JSON.stringify(next) !== JSON.stringify(items);
    items = next;
    for (const t of arrived) fresh.add(t.id);
    const shownArrived = arrived.filter(matchesAssignee).length;
    if (changed) render(shownArrived ? `${plural(shownArrived, 'new tip', 'new tips')}. ` : '');
  }

  async function loadAlertNames(): Promise<void> {
    // Recent alerts name the filter's options and the links; an older alert is named by the end of its id.
    const { body } = await call<{ items: Omit<Alert, 'versions'>[] }>('GET', '/v1/alerts?limit=100');
    if (stopped) return;
    for (const a of body.items) alertNames.set(a.id, a.headline);
    const ids = [...alertNames.keys()];
    if (filters.alert !== ANY && !alertNames.has(filters.alert)) ids.unshift(filters.alert);
    show(
      alertSelect,
      [ANY, ...ids].map((v) => h('option', { value: v, selected: v === filters.alert }, v)),
    );
    labelOptions(alertSelect, (v) => alertNames.get(v) ?? `Alert ${v.slice(-6)}`);
    render();
  }

  show(
    main,
    h('h1', { tabindex: '-1' }, 'Inbox'),
    h(
      'p',
      null,
      `Tips from residents: texts to the agency's number, the web form, and replies under the agency's posts. New tips appear here by themselves (checked every ${POLL_MS / 1000} s).`,
    ),
    form,
    status,
    error,
    h('h2', { id: 'tips-title', class: 'visually-hidden' }, 'Tips, newest first'),
    list,
    more,
  );
  reload().catch(() => undefined);
  loadAlertNames().catch(() => undefined);
  const stopPolling = poll(refresh);
  return () => {
    stopped = true;
    stopPolling();
  };
}
