/** The alerts agencies send most, as starting points: every field can be changed before sending. */
import type { Channel, Draft } from './types';

export interface Template {
  id: string;
  name: string;
  draft: Omit<Draft, 'language' | 'status'>;
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
