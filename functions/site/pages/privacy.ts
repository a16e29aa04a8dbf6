/** /privacy: what the site keeps about a resident and why, and the sentence they agree to when subscribing. */
import { escapeHtml } from '../../core/render';
import type { SiteContext } from '../layout';
import { tileOrigin } from '../tiles';

export function privacyBody(ctx: SiteContext, consentText: string): string {
  const t = ctx.text.privacy;
  // Whether the pages load anything from elsewhere is the agency's choice (HERALD_MAP_TILES); the page must say
  // which, as the last point under what is not kept.
  const elsewhere = ctx.mapTiles
    ? t.elsewhere.tiles(new URL(tileOrigin(ctx.mapTiles)).host)
    : t.elsewhere.nothing;
  const last = t.sections.length - 1;
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    `<p>${escapeHtml(t.intro(ctx.agencyName))}</p>`,
    ...t.sections.map((s, i) => {
      const body = i === last ? [...s.body, elsewhere] : s.body;
      return `<h2>${escapeHtml(s.heading)}</h2><ul>${body.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`;
    }),
    `<h2>${escapeHtml(t.consentTitle)}</h2>`,
    `<p class="consent">${escapeHtml(consentText)}</p>`,
  ].join('');
}
