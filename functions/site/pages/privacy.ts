/** /privacy: what the site keeps about a resident and why, and the sentence they agree to when subscribing. */
import { escapeHtml } from '../../core/render';
import type { SiteContext } from '../layout';

export function privacyBody(ctx: SiteContext, consentText: string): string {
  const t = ctx.text.privacy;
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    `<p>${escapeHtml(t.intro(ctx.agencyName))}</p>`,
    ...t.sections.map(
      (s) =>
        `<h2>${escapeHtml(s.heading)}</h2><ul>${s.body.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`,
    ),
    `<h2>${escapeHtml(t.consentTitle)}</h2>`,
    `<p class="consent">${escapeHtml(consentText)}</p>`,
  ].join('');
}
