/**
 * The officer console and the auditor's view: a small single-page app on hash routes (the server serves only `/`),
 * talking to Herald's public HTTP API.
 */
import { configureApi } from './api';
import { type ConsoleConfig, loadConfig } from './config';
import type { Context, View } from './context';
import { h, show } from './dom';
import { can, completeCognitoSignIn, currentSession, endSession, type Session } from './session';
import { forgetOpenCount, openCountBadge, refreshOpenCount } from './tips';
import { alertView } from './views/alert';
import { alertsView } from './views/alerts';
import { approvalsView } from './views/approvals';
import { composeView } from './views/compose';
import { inboxView } from './views/inbox';
import { scheduledView } from './views/scheduled';
import { signInView } from './views/signin';
import { tipView } from './views/tip';

/**
 * A page whose code (and its charts) is fetched only when it is opened: esbuild splits it into its own chunk, so the
 * console's first load does not carry it.
 */
function lazyView(load: () => Promise<View>): View {
  return (main, ctx) => {
    let stop: (() => void) | undefined;
    let stopped = false;
    show(main, h('h1', { tabindex: '-1' }, 'Loading…'));
    load()
      .then((view) => {
        if (stopped) return;
        stop = view(main, ctx);
        main.querySelector<HTMLElement>('h1')?.focus();
      })
      .catch((error: unknown) => {
        if (stopped) return;
        show(
          main,
          h('h1', { tabindex: '-1' }, 'This page did not load'),
          h('p', { class: 'error' }, `${(error as Error).message} Reload the page to try again.`),
        );
      });
    return () => {
      stopped = true;
      stop?.();
    };
  };
}

interface Route {
  pattern: RegExp;
  view: View;
  title: string;
  allowed: (s: Session) => boolean;
}

const ROUTES: Route[] = [
  { pattern: /^#\/compose$/, view: composeView, title: 'Compose', allowed: can.compose },
  { pattern: /^#\/approvals$/, view: approvalsView, title: 'Approvals', allowed: can.approve },
  { pattern: /^#\/alerts$/, view: alertsView, title: 'Alerts', allowed: () => true },
  { pattern: /^#\/alerts\/([0-9A-Z]{26})$/, view: alertView, title: 'Alert', allowed: () => true },
  { pattern: /^#\/scheduled$/, view: scheduledView, title: 'Scheduled', allowed: () => true },
  // The inbox's filters ride in the hash after `?`.
  { pattern: /^#\/inbox(?:\?[^#]*)?$/, view: inboxView, title: 'Inbox', allowed: can.readTips },
  { pattern: /^#\/tips\/([\w%-]{1,100})$/, view: tipView, title: 'Tip', allowed: can.readTips },
  // The report's choice rides in the hash after `?`.
  {
    pattern: /^#\/reports(?:\?[^#]*)?$/,
    view: lazyView(async () => (await import('./views/reports')).reportsView),
    title: 'Reports',
    allowed: can.report,
  },
  {
    pattern: /^#\/audit$/,
    view: lazyView(async () => (await import('./views/audit-verify')).auditVerifyView),
    title: 'Audit trail',
    allowed: can.verifyAudit,
  },
];

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const announcer = document.getElementById('announcer') as HTMLElement;

let config: ConsoleConfig = { mode: 'embedded' };
let session: Session | undefined;
let stopView: (() => void) | undefined;

function home(s: Session): string {
  if (can.compose(s)) return '#/compose';
  if (can.approve(s)) return '#/approvals';
  return '#/alerts';
}

function announce(message: string): void {
  // Emptied first so the same message said twice is read twice.
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = message;
  }, 50);
}

function useSession(next: Session | undefined): void {
  session = next;
  configureApi({
    baseUrl: config.mode === 'cognito' ? config.apiBaseUrl : (config.apiBaseUrl ?? ''),
    ...(next ? { token: next.token } : {}),
    onUnauthorized: () => {
      endSession({ mode: 'embedded' });
      forgetOpenCount();
      useSession(undefined);
      announce('Your session has ended. Sign in again.');
      navigate('#/signin');
    },
  });
}

function navigate(hash: string): void {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderChrome(current: string): void {
  const links: [string, string | Node[]][] = session
    ? [
        ...(can.compose(session) ? ([['#/compose', 'Compose']] as [string, string][]) : []),
        ...(can.approve(session) ? ([['#/approvals', 'Approvals']] as [string, string][]) : []),
        ['#/alerts', can.audit(session) ? 'Alerts and audit' : 'Alerts'],
        ['#/scheduled', 'Scheduled'],
        ...(can.report(session) ? ([['#/reports', 'Reports']] as [string, string][]) : []),
        ...(can.verifyAudit(session) ? ([['#/audit', 'Audit trail']] as [string, string][]) : []),
        // A tip's thread is part of the inbox, so its link stays marked there too.
        ...(can.readTips(session)
          ? ([['#/inbox', [document.createTextNode('Inbox'), openCountBadge()]]] as [string, Node[]][])
          : []),
      ]
    : [];
  show(
    nav,
    links.length
      ? h(
          'ul',
          null,
          links.map(([href, label]) =>
            h(
              'li',
              null,
              h(
                'a',
                {
                  href,
                  'aria-current':
                    current.startsWith(href) || (href === '#/inbox' && current.startsWith('#/tips/'))
                      ? 'page'
                      : undefined,
                },
                label,
              ),
            ),
          ),
        )
      : null,
  );
  if (session && can.readTips(session)) refreshOpenCount().catch(() => undefined);
  show(
    who,
    session
      ? [
          h('span', null, `${session.name} · ${session.roles.join(', ')}`),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                endSession(config);
                forgetOpenCount();
                useSession(undefined);
                navigate('#/signin');
              },
            },
            'Sign out',
          ),
        ]
      : null,
  );
}

function route(): void {
  stopView?.();
  stopView = undefined;
  const hash = location.hash || '#/';
  if (!session) {
    if (hash !== '#/signin') {
      location.replace('#/signin');
      return;
    }
  } else if (hash === '#/signin' || hash === '#/') {
    location.replace(home(session));
    return;
  }
  renderChrome(hash);
  const ctx: Context = {
    config,
    session,
    params: [],
    navigate,
    announce,
    signedIn: (s) => {
      useSession(s);
      announce(`Signed in as ${s.name}.`);
      navigate(home(s));
    },
  };
  let view: View = signInView;
  let title = 'Sign in';
  if (session) {
    const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(hash) })).find((x) => x.m);
    if (!match?.r.allowed(session)) {
      show(
        main,
        h('h1', { tabindex: '-1' }, 'Not here'),
        h('p', null, 'There is no such page, or your role cannot use it. '),
        h('p', null, h('a', { href: home(session) }, 'Go to your start page')),
      );
      document.title = 'Not found · Herald';
      return;
    }
    ctx.params = match!.m!.slice(1);
    view = match!.r.view;
    title = match!.r.title;
  }
  document.title = `${title} · Herald`;
  stopView = view(main, ctx);
  // Each page starts at its heading, so keyboard and screen-reader users know where they are.
  main.querySelector<HTMLElement>('h1')?.focus();
}

async function boot(): Promise<void> {
  document.getElementById('skip')?.addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  try {
    config = await loadConfig();
    let signedIn = currentSession();
    if (config.mode === 'cognito') signedIn = (await completeCognitoSignIn(config)) ?? signedIn;
    useSession(signedIn);
  } catch (error) {
    show(main, h('h1', null, 'Herald console'), h('p', { class: 'error' }, (error as Error).message));
    return;
  }
  window.addEventListener('hashchange', route);
  route();
}

boot().catch(() => undefined);
