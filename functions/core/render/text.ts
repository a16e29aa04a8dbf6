/**
 * Cutting text to a budget without breaking what a reader sees as one character: cuts fall between
 * grapheme clusters (Intl.Segmenter), so a surrogate pair, an emoji ZWJ sequence, a flag or a letter with
 * its combining accents is kept whole or left out whole.
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), (s) => s.segment);

/**
 * The longest start of `text`, cut between graphemes and ended with `ellipsis`, that `fits` accepts; the
 * whole text when it fits. Undefined when not even one grapheme fits. `fits` is called on the candidate
 * piece and decides in context (the caller composes the whole message around it).
 */
export function longestFitting(
  text: string,
  fits: (candidate: string) => boolean,
  ellipsis = '…',
): string | undefined {
  if (fits(text)) return text;
  const parts = graphemes(text);
  const candidate = (n: number) => `${parts.slice(0, n).join('').trimEnd()}${ellipsis}`;
  // Budgets grow with the text (weighted lengths, septets, segments), so a binary search finds the cut;
  // the check after it guards the rare text where they do not (a URL recognised only once it is whole).
  let low = 1;
  let high = parts.length - 1;
  let best = 0;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (fits(candidate(mid))) {
      best = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  for (let n = best; n >= 1; n--) if (fits(candidate(n))) return candidate(n);
  return undefined;
}

/** The pieces every channel's text is made of, in the order a reader needs them. */
export interface TextPieces {
  /** Mark and headline: kept whole unless nothing else fits. */
  head: string;
  /** Cancel reason, description, instruction: the description is what gets shortened first. */
  note?: string | undefined;
  description: string;
  instruction?: string | undefined;
  /** The link line: kept whole. */
  tail?: string | undefined;
}

export interface Fitted {
  text: string;
  /** What had to give: `description`, `instruction`, `headline`, or `link` as a last resort. */
  shortened: ('description' | 'instruction' | 'headline' | 'link')[];
}

/** Shortening the description below this many graphemes says too little: give up the instruction first. */
const MIN_DESCRIPTION = 20;

/**
 * Fits the pieces into a budget, giving up the least useful text first: the end of the description, then
 * the instruction, then the end of the headline; the link only when it alone is over budget.
 */
export function fitPieces(
  pieces: TextPieces,
  compose: (head: string, body: string[], tail: string | undefined) => string,
  fits: (text: string) => boolean,
  ellipsis = '…',
): Fitted {
  const { head, note, description, instruction, tail } = pieces;
  const body = (d: string | undefined, i: string | undefined) =>
    [note, d, i].filter((p): p is string => p !== undefined && p !== '');
  const full = compose(head, body(description, instruction), tail);
  if (fits(full)) return { text: full, shortened: [] };

  if (instruction) {
    const d = longestFitting(description, (c) => fits(compose(head, body(c, instruction), tail)), ellipsis);
    if (d !== undefined && graphemes(d).length > MIN_DESCRIPTION)
      return { text: compose(head, body(d, instruction), tail), shortened: ['description'] };
  }

  const joined = body(description, instruction).join('\n\n');
  const b = longestFitting(joined, (c) => fits(compose(head, [c], tail)), ellipsis);
  if (b !== undefined) {
    const shortened: Fitted['shortened'] = ['description'];
    if (instruction && !b.includes(instruction)) shortened.push('instruction');
    return { text: compose(head, [b], tail), shortened };
  }

  const h = longestFitting(head, (c) => fits(compose(c, [], tail)), ellipsis);
  if (h !== undefined) {
    const shortened: Fitted['shortened'] = ['description'];
    if (instruction) shortened.push('instruction');
    if (h !== head) shortened.push('headline');
    return { text: compose(h, [], tail), shortened };
  }

  const all = longestFitting(full, fits, ellipsis);
  return { text: all ?? '', shortened: ['description', 'instruction', 'headline', 'link'] };
}
