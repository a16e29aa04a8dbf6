/**
 * Every page's frame: the language, the agency's header with the navigation and the language switcher, the
 * footer with the feeds, and the headers that lock the page down. Pages give a title and a body of HTML whose
 * every piece of outside text went through escapeHtml.
 */

import type { ApiResult } from '../api/http';
import { escapeHtml } from '../core/render';
import type { MapTiles } from '../shared/config';
import { SCRIPT, STYLESHEET } from './assets';
import { siteLanguages, siteText } from './i18n';
import type { SiteText } from './text/en';
import { tileOrigin } from './tiles';

export interface SiteContext {
  lang: string;
  text: SiteText;
  agencyName: string;
  publicBaseUrl: string;
  /** The agency's languages the site speaks, in order. */
  languages: string[];
  /** The page's own path, for the language switcher and the navigation. */
  path: string;
  /** True when the page's language came from `?lang=` (its URL names it), false when from Accept-Language. */
  langInUrl: boolean;
  /** The agency's tile server (HERALD_MAP_TILES), which the maps draw under the zones; unset, no tiles anywhere. */
  mapTiles?: MapTiles | undefined;
}

export function siteContext(
  config: {
    agencyName: string;
    publicBaseUrl: string;
    languages: readonly string[];
    mapTiles?: MapTiles | undefined;
  },
  lang: string,
  path: string,
  langInUrl: boolean,
): SiteContext {
  return {
    lang,
    text: siteText(lang),
    agencyName: config.agencyName,
    publicBaseUrl: config.publicBaseUrl,
    languages: siteLanguages(config.languages),
    path,
    langInUrl,
    mapTiles: config.mapTiles,
  };
}

/** A site path in the page's language: the language rides along in the query so a link keeps it. */
export const href = (ctx: SiteContext, path: string, lang = ctx.lang) =>
  `${path}${path.includes('?') ? '&' : '?'}lang=${encodeURIComponent(lang)}`;

/**
 * Where the page may load from: itself, the public host that serves the alerts' images, and the tile server when the
 * agency has configured one (its one origin: the template was checked at start-up).
 */
export function contentSecurityPolicy(publicBaseUrl: string, mapTiles?: MapTiles): string {
  const imageOrigins = new Set<string>();
  try {
    imageOrigins.add(new URL(publicBaseUrl).origin);
  } catch {
    // A base URL that is no URL adds no origin.
  }
  if (mapTiles) imageOrigins.add(tileOrigin(mapTiles));
  return [
    "default-src 'none'",
    "style-src 'self'",
    "script-src 'self'",
    ["img-src 'self'", ...imageOrigins].join(' '),
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface PageOptions {
  title: string;
  body: string;
  status?: number;
  /** `public`: the same for everyone (cached for a minute); `private`: personal or the answer to a form. */
  cache?: 'public' | 'private';
  /** Extra `<head>` elements: Open Graph, alternate links. Already escaped. */
  head?: string;
  /** Include the script that improves the page (the find-my-zone button). Nothing depends on it. */
  script?: boolean;
  /** Extra headers, e.g. a Set-Cookie. */
  headers?: Record<string, string>;
}

const NAV: readonly { key: Exclude<keyof SiteText['nav'], 'label'>; path: string }[] = [
  { key: 'alerts', path: '/alerts' },
  { key: 'subscribe', path: '/subscribe' },
  { key: 'manage', path: '/manage' },
  { key: 'privacy', path: '/privacy' },
];

export function page(ctx: SiteContext, options: PageOptions): ApiResult {
  const t = ctx.text;
  const refused = (options.status ?? 200) >= 400;
  const current = (path: string) =>
    ctx.path === path || (path === '/alerts' && ctx.path.startsWith('/alerts/'))
      ? ' aria-current="page"'
      : '';
  const nav = NAV.map(
    (n) =>
      `<li><a href="${escapeHtml(href(ctx, n.path))}"${current(n.path)}>${escapeHtml(t.nav[n.key])}</a></li>`,
  ).join('');
  const langs = ctx.languages
    .map((l) => {
      const name = escapeHtml(siteText(l).languageName);
      return l === ctx.lang
        ? `<li><span lang="${l}" aria-current="true">${name}</span></li>`
        : `<li><a href="${escapeHtml(href(ctx, ctx.path, l))}" lang="${l}" hreflang="${l}">${name}</a></li>`;
    })
    .join('');
  const alternates = ctx.languages
    .map(
      (l) =>
        `<link rel="alternate" hreflang="${l}" href="${escapeHtml(ctx.publicBaseUrl + href(ctx, ctx.path, l))}">`,
    )
    .join('');
  const feeds = [
    ['Atom', '/v1/feed.atom'],
    ['RSS', '/v1/feed.rss'],
    ['JSON Feed', '/v1/feed.json'],
  ]
    .map(([name, path]) => `<li><a href="${path}">${name}</a></li>`)
    .join('');
  const body = [
    '<!doctype html>',
    `<html lang="${ctx.lang}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`${refused ? `${t.errors.titlePrefix}: ` : ''}${options.title} · ${ctx.agencyName}`)}</title>`,
    `<link rel="stylesheet" href="${STYLESHEET.path}">`,
    '<link rel="alternate" type="application/atom+xml" href="/v1/feed.atom" title="Atom">',
    alternates,
    options.head ?? '',
    options.script ? `<script src="${SCRIPT.path}" defer></script>` : '',
    '</head><body>',
    `<a class="skip" href="#main">${escapeHtml(t.skipToContent)}</a>`,
    '<header class="site">',
    `<p class="brand">${escapeHtml(ctx.agencyName)}</p>`,
    `<nav class="site" aria-label="${escapeHtml(t.nav.label)}"><ul>${nav}</ul></nav>`,
    `<nav class="langs" aria-label="${escapeHtml(t.languageSwitcher)}"><ul>${langs}</ul></nav>`,
    '</header>',
    `<main id="main" tabindex="-1">${options.body}</main>`,
    '<footer class="site">',
    `<p>${escapeHtml(t.footer.emergency)}</p>`,
    `<p>${escapeHtml(t.footer.feeds)}:</p><ul>${feeds}</ul>`,
    '</footer></body></html>',
  ].join('');
  const personal = (options.cache ?? 'public') === 'private';
  return {
    statusCode: options.status ?? 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-language': ctx.lang,
      // A public page is the same for everyone who asks in its language; a form's answer or a personal page is not
      // kept anywhere. Without ?lang= the language came from Accept-Language, so a cache must key on it.
      'cache-control': personal ? 'no-store' : 'public, max-age=60',
      ...(personal || ctx.langInUrl ? {} : { vary: 'Accept-Language' }),
      'content-security-policy': contentSecurityPolicy(ctx.publicBaseUrl, ctx.mapTiles),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
      // The find-my-zone button asks for the location on this page only; nothing else is wanted.
      'permissions-policy': 'geolocation=(self), camera=(), microphone=(), payment=()',
      'cross-origin-opener-policy': 'same-origin',
      ...(options.headers ?? {}),
    },
    body,
  };
}
