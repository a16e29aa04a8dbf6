/**
 * Which language a page speaks: `?lang=` when it names one of the agency's languages, else the best match of
 * `Accept-Language`, else the agency's first. The agency's list is configuration (HERALD_LANGUAGES); a language
 * Herald has no site text for is not offered.
 */
import { ca } from './text/ca';
import { en, type SiteText } from './text/en';
import { es } from './text/es';

const TEXTS: Record<string, SiteText> = { en, es, ca };

/** Languages the site has words for, in the agency's order. */
export const siteLanguages = (configured: readonly string[]): string[] => {
  const usable = configured.map((l) => l.toLowerCase()).filter((l) => l in TEXTS);
  return usable.length > 0 ? [...new Set(usable)] : ['en'];
};

export const siteText = (language: string): SiteText => TEXTS[language] ?? en;

/** `es-ES,es;q=0.9,en;q=0.8` → the agency's language with the highest weight, by primary subtag. */
export function fromAcceptLanguage(
  header: string | undefined,
  languages: readonly string[],
): string | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { primary: tag.trim().toLowerCase().split('-')[0] ?? '', weight, index };
    })
    .filter((r) => r.primary && Number.isFinite(r.weight) && r.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  return ranked.find((r) => languages.includes(r.primary))?.primary;
}

export function pickLanguage(
  query: string | undefined,
  acceptLanguage: string | undefined,
  configured: readonly string[],
): string {
  const languages = siteLanguages(configured);
  const asked = query?.toLowerCase().split('-')[0];
  if (asked && languages.includes(asked)) return asked;
  return fromAcceptLanguage(acceptLanguage, languages) ?? (languages[0] as string);
}
