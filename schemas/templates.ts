/**
 * The alerts agencies send most, as starting points for the console, and the placeholders they leave to fill
 * (`[name]`, `[place]`, …). Plain data with no zod, so the console imports it without a validation library, and
 * the API refuses what the console refuses: a draft that still holds one of these placeholders never goes out.
 */
import type { CATEGORIES, CERTAINTIES, CHANNELS, SEVERITIES, URGENCIES } from './vocabulary';

type Channel = (typeof CHANNELS)[number];

export interface TemplateDraft {
  category: (typeof CATEGORIES)[number];
  event: string;
  urgency: (typeof URGENCIES)[number];
  severity: (typeof SEVERITIES)[number];
  certainty: (typeof CERTAINTIES)[number];
  headline: string;
  description: string;
  instruction?: string;
  channels: Channel[];
}

export interface Template {
  id: string;
  name: string;
  draft: TemplateDraft;
}

const SOCIAL: Channel[] = ['x', 'facebook', 'instagram'];
const EVERYWHERE: Channel[] = ['x', 'facebook', 'instagram', 'sms', 'email', 'webhook'];

export const TEMPLATES: readonly Template[] = [
  {
    id: 'missing-person',
    name: 'Missing person',
    draft: {
      category: 'Rescue',
      event: 'Missing person',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Observed',
      headline: 'Missing: [name], [age], last seen in [place]',
      description:
        '[Name], aged [age], was last seen at [time] near [place]. [Height], [build], wearing [clothing].',
      instruction: 'If you see [name], call 112 and quote the reference [number]. Do not approach.',
      channels: [...EVERYWHERE],
    },
  },
  {
    id: 'road-closure',
    name: 'Road closure (race or event)',
    draft: {
      category: 'Transport',
      event: 'Road closure',
      urgency: 'Expected',
      severity: 'Minor',
      certainty: 'Observed',
      headline: '[Event] closes [street] on [day]',
      description: '[Street] is closed between [start] and [end] for [event]. Expect delays nearby.',
      instruction: 'Use [alternative route] instead.',
      channels: [...SOCIAL],
    },
  },
  {
    id: 'scam-warning',
    name: 'Scam warning',
    draft: {
      category: 'Security',
      event: 'Scam warning',
      urgency: 'Expected',
      severity: 'Moderate',
      certainty: 'Observed',
      headline: 'Scam alert: callers pretending to be [organisation]',
      description:
        'People are being called by someone who says they work for [organisation] and asks for bank details.',
      instruction: 'Hang up. The police never ask for your PIN or passwords. Report it on 091.',
      channels: [...SOCIAL, 'email'],
    },
  },
  {
    id: 'evacuation',
    name: 'Emergency / evacuation',
    draft: {
      category: 'Safety',
      event: 'Evacuation',
      urgency: 'Immediate',
      severity: 'Extreme',
      certainty: 'Observed',
      headline: 'Evacuate [area] now: [hazard]',
      description: 'Because of [hazard], everyone in [area] must leave now.',
      instruction: 'Leave by [route]. Go to [assembly point]. Follow police instructions.',
      channels: [...EVERYWHERE],
    },
  },
  {
    id: 'all-clear',
    name: 'All clear',
    draft: {
      category: 'Safety',
      event: 'All clear',
      urgency: 'Past',
      severity: 'Minor',
      certainty: 'Observed',
      headline: 'All clear in [area]',
      description: 'The incident in [area] is over. It is safe to return.',
      instruction: 'Thank you for your patience.',
      channels: [...SOCIAL, 'sms', 'email'],
    },
  },
];

const PLACEHOLDER = /\[([^[\]\n]{1,40})\]/g;

/** Every `[…]` the templates leave to fill, lower-cased: `[Name]` and `[name]` are the same placeholder. */
export const TEMPLATE_PLACEHOLDERS: ReadonlySet<string> = new Set(
  TEMPLATES.flatMap((t) =>
    [t.draft.headline, t.draft.description, t.draft.instruction ?? ''].flatMap((text) =>
      [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!.toLowerCase()),
    ),
  ),
);

export interface UnfilledPlaceholder {
  /** JSON Pointer (RFC 6901) to the field, as problem+json names fields. */
  path: string;
  message: string;
}

/**
 * The fields of a draft (or an update's patch) that still hold a template's placeholder, each named by JSON
 * Pointer. Only the templates' own placeholders count, so an officer's `[UPDATE]` or a quoted `[sic]` passes.
 */
export function unfilledPlaceholders(value: unknown, path = ''): UnfilledPlaceholder[] {
  if (typeof value === 'string') {
    const found = [...value.matchAll(PLACEHOLDER)]
      .map((m) => m[0])
      .filter((p) => TEMPLATE_PLACEHOLDERS.has(p.slice(1, -1).toLowerCase()));
    return found.length
      ? [
          {
            path,
            message: `still holds the template's placeholder ${[...new Set(found)].join(', ')}: fill it in`,
          },
        ]
      : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unfilledPlaceholders(item, `${path}/${i}`));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) =>
      unfilledPlaceholders(item, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
    );
  return [];
}
