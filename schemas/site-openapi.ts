/**
 * The residents' site's routes in the OpenAPI document: HTML pages, and forms posted as
 * application/x-www-form-urlencoded whose refusals come back as the same page with each bad field named beside it.
 */
type Json = Record<string, unknown>;

const html = (description: string): Json => ({
  description,
  content: { 'text/html': { schema: { type: 'string' } } },
});

const lang: Json = {
  name: 'lang',
  in: 'query',
  required: false,
  description:
    "The page's language (one of the agency's, HERALD_LANGUAGES); without it, Accept-Language decides",
  schema: { type: 'string' },
};

const ifNoneMatch: Json = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'An ETag of this page: 304 when it has not changed',
  schema: { type: 'string' },
};

const page = (description: string, cached = true): Json => ({
  parameters: cached ? [lang, ifNoneMatch] : [lang],
  responses: {
    '200': html(description),
    ...(cached ? { '304': { description: 'Not modified' } } : {}),
  },
});

const form = (fields: Record<string, Json>, required: string[], answer: Json): Json => ({
  parameters: [lang],
  requestBody: {
    required: true,
    content: {
      'application/x-www-form-urlencoded': {
        schema: { type: 'object', properties: { lang: { type: 'string' }, ...fields }, required },
      },
    },
  },
  responses: {
    ...answer,
    '403': html(
      'The form did not come from a page of this site (Origin, Sec-Fetch-Site), or the manage session is over',
    ),
    '429': html('Too many tries from this network or for this address: the form again, saying so'),
  },
});

const zoneFields: Record<string, Json> = {
  zones: { type: 'array', items: { type: 'string' }, description: 'zone ids (one field per zone)' },
  language: { type: 'string' },
  quietFrom: { type: 'string', description: 'HH:MM, with quietTo; both empty for none' },
  quietTo: { type: 'string' },
};
const codeFields: Record<string, Json> = {
  address: { type: 'string' },
  code: { type: 'string', pattern: '^\\d{6}$' },
};

export function siteOperations(): Record<string, Json> {
  return {
    alertsPage: page(
      'The alerts in force, newest first, with a map of their areas and the same areas as a list',
    ),
    alertPage: page(
      'One Actual alert in the page language when it has it: the current version, its thread, map, CAP link and tip form',
    ),
    alertCard: {
      parameters: [lang, ifNoneMatch],
      responses: {
        '200': {
          description: "The current version's card, 1080×1350, in the page language when the alert has it",
          content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
        },
        '304': { description: 'Not modified' },
      },
    },
    alertSeen: {
      parameters: [
        {
          name: 'from',
          in: 'query',
          required: false,
          description:
            "The code of the channel whose link brought the reader (the page's own ?from=); else direct",
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description:
            'A 1×1 transparent GIF, never cached: one page view counted (no cookie; no address or user agent kept)',
          content: { 'image/gif': { schema: { type: 'string', format: 'binary' } } },
        },
        '404': html('No such public alert: nothing counted'),
      },
    },
    alertChannelLink: {
      responses: {
        '302': {
          description:
            "One click counted for the channel whose code the path ends with; to the alert's own web link, or its page with ?from=<code> (no cookie; no address or user agent kept)",
        },
        '404': html('No such public alert: nothing counted'),
      },
    },
    alertTipForm: form(
      {
        text: { type: 'string', maxLength: 2000 },
        contactChannel: { type: 'string', enum: ['none', 'sms', 'email'] },
        contact: { type: 'string' },
      },
      ['text'],
      { '200': html("The tip's reference"), '400': html('The alert page again, each bad field named') },
    ),
    subscribePage: page('The sign-up form'),
    subscribeForm: form(
      { channel: { type: 'string', enum: ['sms', 'email'] }, address: { type: 'string' }, ...zoneFields },
      ['channel', 'address', 'zones'],
      {
        '200': html('The code page: a code went to the address'),
        '400': html('The form again, each bad field named'),
      },
    ),
    confirmForm: form(codeFields, ['address', 'code'], {
      '200': html('Subscribed: what the subscription reaches'),
      '410': html('The code expired or has no tries left'),
      '422': html('Not the code that was sent: the tries left'),
    }),
    managePage: page(
      'Within a manage session (cookie herald_manage): the settings; otherwise the address form',
      false,
    ),
    manageCodeForm: form({ address: { type: 'string' } }, ['address'], {
      '200': html('The code page (the same answer whether or not the address is subscribed)'),
      '400': html('The form again, the address named'),
    }),
    manageSessionForm: form(codeFields, ['address', 'code'], {
      '303': {
        description:
          'To /manage, with Set-Cookie herald_manage (HttpOnly, SameSite=Strict, Path=/manage, 30 minutes)',
      },
      '410': html('The code expired or has no tries left'),
      '422': html('Not the code that was sent: the tries left'),
    }),
    manageSettingsForm: form({ csrf: { type: 'string' }, ...zoneFields }, ['csrf', 'zones'], {
      '200': html('Saved: the settings again'),
      '400': html('The settings again, each bad field named'),
    }),
    manageEndForm: form({ csrf: { type: 'string' } }, ['csrf'], {
      '200': html('Ended; the session cookie is cleared'),
    }),
    privacyPage: page('What the site keeps about a resident, why, and the consent text'),
    siteAsset: {
      responses: {
        '200': {
          description: 'The stylesheet or the script; immutable (the name holds its hash)',
          content: {
            'text/css': { schema: { type: 'string' } },
            'text/javascript': { schema: { type: 'string' } },
          },
        },
      },
    },
  };
}
