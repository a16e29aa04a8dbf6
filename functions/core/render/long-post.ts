/**
 * The long formats' shape (Facebook's post, Instagram's caption): the whole alert, headline first, with the areas and
 * the contact after the instructions, and a last line each channel chooses. `fitPieces` (./text.ts) shortens it.
 */
import { areaNames, type Localised } from './version';

/** UTF-16 units: never fewer than the characters Meta counts, so a text within it is within Meta's cap. */
export const utf16Units = (s: string): number => s.length;

export function longPieces(l: Localised, linkLine: string) {
  const areas = areaNames(l.content);
  const extra = [
    areas.length ? `${l.words.area}: ${areas.join(', ')}` : undefined,
    l.content.contact ? `${l.words.contact}: ${l.content.contact}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return {
    head: `${l.prefix}${l.content.headline}`,
    note: l.note,
    description: l.content.description,
    instruction: [l.content.instruction, ...extra].filter(Boolean).join('\n\n') || undefined,
    tail: linkLine,
  };
}

export const composeLong = (head: string, body: string[], tail: string | undefined): string =>
  [head, ...body, ...(tail ? [tail] : [])].join('\n\n');
