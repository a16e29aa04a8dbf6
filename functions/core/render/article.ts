/**
 * The HTML and plain text every long format shares: the email's body, the webhook's plain rendering and the alert's
 * public page. Every string that comes from the alert is escaped where it lands — text in an element, a value in
 * an attribute — so a headline such as `<script>` or `"onerror=` reads as the characters it is.
 */
import { safeText } from '../../../schemas/text';
import { alertImage, areaNames, type Localised } from './version';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes for both element text and quoted attribute values. Controls and lone surrogates (text stored before the
 * API refused them) become U+FFFD: HTML calls them parse errors and mail clients show them as they please.
 */
export const escapeHtml = (s: string): string =>
  safeText(s).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

/** Only http(s) links become links: anything else (a `javascript:` URL) would run in the reader's mail client. */
const safeHref = (url: string): string | undefined => {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
};

const SEVERITY_COLOUR: Record<string, string> = {
  Extreme: '#8b0000',
  Severe: '#c0392b',
  Moderate: '#d35400',
  Minor: '#b7950b',
  Unknown: '#555555',
};

const paragraphs = (text: string): string =>
  text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');

/**
 * The alert as an HTML fragment: one `<article>`. For email it is styled inline, because mail clients drop style
 * sheets; for the residents' site (`site`) it carries classes instead, because the site's policy forbids inline
 * style. The words are the same either way.
 */
export function alertArticle(l: Localised, agencyName: string, target: 'email' | 'site' = 'email'): string {
  const c = l.content;
  const colour = SEVERITY_COLOUR[c.severity] ?? '#555555';
  const areas = areaNames(c);
  const image = alertImage(c);
  const imageSrc = image ? safeHref(image.url) : undefined;
  const href = safeHref(l.link);
  const rows: string[] = [];
  if (l.times) rows.push(`<p><strong>${escapeHtml(l.words.when)}:</strong> ${escapeHtml(l.times)}</p>`);
  if (areas.length)
    rows.push(`<p><strong>${escapeHtml(l.words.area)}:</strong> ${escapeHtml(areas.join(', '))}</p>`);
  if (c.contact)
    rows.push(`<p><strong>${escapeHtml(l.words.contact)}:</strong> ${escapeHtml(c.contact)}</p>`);
  const site = target === 'site';
  const severityClass = escapeHtml(c.severity);
  return [
    site
      ? `<article lang="${escapeHtml(c.language)}" class="alert card sev-${severityClass}">`
      : `<article lang="${escapeHtml(c.language)}" style="font-family:sans-serif;max-width:40em;border-left:6px solid ${colour};padding:0 1em">`,
    site
      ? `<p class="alert-meta">${escapeHtml(`${c.event} · ${l.words.severity[c.severity]} · ${agencyName}`)}</p>`
      : `<p style="color:${colour};font-weight:bold;margin-bottom:0">${escapeHtml(`${c.event} · ${l.words.severity[c.severity]} · ${agencyName}`)}</p>`,
    site
      ? `<h1>${escapeHtml(`${l.prefix}${c.headline}`)}</h1>`
      : `<h1 style="margin-top:0.2em">${escapeHtml(`${l.prefix}${c.headline}`)}</h1>`,
    l.note ? paragraphs(l.note) : '',
    paragraphs(c.description),
    c.instruction ? `<h2>${escapeHtml(l.words.whatToDo)}</h2>${paragraphs(c.instruction)}` : '',
    ...rows,
    imageSrc && image
      ? `<p><img src="${escapeHtml(imageSrc)}" alt="${escapeHtml(image.alt)}"${site ? '' : ' style="max-width:100%"'}></p>`
      : '',
    // On the site the article is the full alert; a link of the officer's own still shows.
    href && !(site && !c.web)
      ? `<p><a href="${escapeHtml(href)}">${escapeHtml(l.words.fullAlert)}</a></p>`
      : '',
    '</article>',
  ].join('');
}

/** A whole HTML document around the article: the email's HTML part, and the public alert page. */
export function alertDocument(l: Localised, agencyName: string): string {
  return [
    '<!doctype html>',
    `<html lang="${escapeHtml(l.content.language)}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`${l.prefix}${l.content.headline}`)}</title></head>`,
    `<body>${alertArticle(l, agencyName)}</body></html>`,
  ].join('');
}

/** The plain-text twin of the article. */
export function alertPlainText(l: Localised, agencyName: string): string {
  const c = l.content;
  const areas = areaNames(c);
  return [
    `${l.prefix}${c.headline}`,
    `${c.event} · ${l.words.severity[c.severity]} · ${agencyName}`,
    l.note,
    c.description,
    c.instruction ? `${l.words.whatToDo}:\n${c.instruction}` : undefined,
    [
      l.times ? `${l.words.when}: ${l.times}` : undefined,
      areas.length ? `${l.words.area}: ${areas.join(', ')}` : undefined,
      c.contact ? `${l.words.contact}: ${c.contact}` : undefined,
    ]
      .filter(Boolean)
      .join('\n') || undefined,
    `${l.words.fullAlert}: ${l.link}`,
  ]
    .filter((p): p is string => Boolean(p))
    .join('\n\n');
}
