/**
 * Tips and replies (api.md, "Tips and replies: residents talk back") as the API speaks of them: what a resident
 * sends on the web, what officers read and send back, the audit of both. A tip names its tipster by an alias or a
 * public handle only: no schema here has a field that could carry a number or an address back out.
 */
import * as z from 'zod';
import { CHANNELS, Channel, LanguageTag } from './alert';
import { BLANK, isBlank, refuseBidiControls, safeString, text } from './text';

const isoDateTime = z.string().meta({ format: 'date-time' });
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Where a tip came from: `sms`, `web`, or the social channel whose post it answers. */
const NOT_SOCIAL: readonly string[] = ['sms', 'email', 'webhook'];
export const TIP_SOURCES: readonly [string, ...string[]] = [
  'sms',
  'web',
  ...CHANNELS.filter((c) => !NOT_SOCIAL.includes(c)),
];
export const TipSource = z.enum(TIP_SOURCES).meta({ id: 'TipSource' });
export const TipState = z.enum(['open', 'closed']).meta({ id: 'TipState' });

/** The longest tip the web form takes, and the longest answer an officer sends (SMS splits it, X shortens it). */
export const TIP_TEXT_MAX = 2000;
export const ANSWER_TEXT_MAX = 1000;

export const TipRequest = z
  .strictObject({
    text: text(TIP_TEXT_MAX).superRefine(refuseBidiControls),
    alertId: z
      .string()
      .regex(ULID, 'must be the id of an alert (26 characters, as GET /v1/alerts gives them)')
      .optional()
      .meta({ description: 'the public alert the tip is about' }),
    contact: z
      .strictObject({
        channel: z.enum(['sms', 'email']),
        address: safeString()
          .min(1, 'is required')
          .max(320, 'must be at most 320 characters')
          .meta({ description: 'a phone number in international form (+34…) or an email address' }),
      })
      .optional()
      .meta({
        description:
          'how an officer may answer: kept encrypted, never shown to anyone, erased after the retention period',
      }),
    language: LanguageTag.optional().meta({
      description: 'the language the answers are framed in (en, es or ca; English otherwise)',
    }),
  })
  .meta({ id: 'TipRequest' });
export type TipRequest = z.infer<typeof TipRequest>;

export const TipAccepted = z
  .object({
    id: z.string(),
    reference: z.string().meta({ description: 'T- and 4 characters, to quote when calling the agency' }),
  })
  .meta({ id: 'TipAccepted' });

export const TipMessageView = z
  .object({
    direction: z.enum(['in', 'out']),
    text: z.string(),
    at: isoDateTime,
    author: z
      .string()
      .optional()
      .meta({ description: 'the officer who answered; the alias or handle for "in"' }),
    status: z.enum(['sending', 'sent', 'failed', 'queued']).optional().meta({
      description: 'an answer: queued (a public reply waiting for its channel), sending, sent, failed',
    }),
    reason: z.string().optional().meta({ description: 'why an answer failed' }),
    public: z.boolean().optional().meta({ description: 'a public reply on a social channel' }),
  })
  .meta({ id: 'TipMessage' });

export const TipView = z
  .object({
    id: z.string(),
    reference: z.string(),
    alertId: z.string().optional(),
    source: TipSource,
    from: z
      .string()
      .meta({ description: '"Tipster 4F2K" (stable per tipster), "Anonymous", or the public handle' }),
    text: z.string(),
    receivedAt: isoDateTime,
    state: TipState,
    assignee: z.string().optional(),
    closedAt: isoDateTime.optional(),
    replyBy: z
      .enum(['sms', 'email', 'public-reply'])
      .optional()
      .meta({ description: 'how an answer would reach the tipster; absent when it cannot be answered' }),
    contactErased: z
      .boolean()
      .optional()
      .meta({ description: 'the contact was erased at the end of the retention period' }),
    messageCount: z.number().int().nonnegative().meta({ description: 'messages in the whole thread' }),
    messages: z.array(TipMessageView).meta({
      description:
        'the thread, oldest first, starting with the tip itself; a listing carries only that first message (the thread is read, and audited, one tip at a time)',
    }),
  })
  .meta({ id: 'Tip' });
export type TipView = z.infer<typeof TipView>;

export const TipList = z
  .object({
    items: z.array(TipView),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'pass as ?cursor= for the next page; absent on the last' }),
  })
  .meta({ id: 'TipList' });

export const TipCount = z
  .object({ state: z.literal('open'), count: z.number().int().nonnegative() })
  .meta({ id: 'TipCount' });

export const TipListQuery = z.strictObject({
  alertId: z.string().regex(ULID, 'must be an alert id').optional(),
  state: TipState.optional(),
  source: TipSource.optional(),
  assignee: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});

export const TipCountQuery = z.strictObject({
  state: z.literal('open', { message: 'only the open tips are counted' }).default('open'),
});

export const TipReplyRequest = z
  .strictObject({
    text: text(ANSWER_TEXT_MAX),
    public: z
      .boolean()
      .optional()
      .meta({ description: 'required (true) to answer a social tip: the answer is a public reply under it' }),
  })
  .meta({ id: 'TipReplyRequest' });

export const TipAssignRequest = z
  .strictObject({
    to: z
      .union([
        safeString()
          .trim()
          .min(1, 'must not be empty')
          .max(128, 'must be at most 128 characters')
          .refine((s) => !isBlank(s), BLANK),
        z.null(),
      ])
      .meta({ description: "the officer's id (their sign-in name), or null to unassign" }),
  })
  .meta({ id: 'TipAssignRequest' });

export const TipNoteRequest = z
  .strictObject({ note: text(1000).optional() })
  .meta({ id: 'TipNoteRequest', description: 'why, for the audit' });

export const TipAuditLog = z
  .object({
    tipId: z.string(),
    entries: z.array(
      z.object({
        at: isoDateTime,
        actor: z.string().meta({ description: 'an officer, "resident", a public handle, or system:<part>' }),
        action: z.enum([
          'tip.received',
          'tip.read',
          'tip.replied',
          'tip.assigned',
          'tip.closed',
          'tip.reopened',
          'tip.contact-erased',
        ]),
        detail: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'TipAuditLog' });

/** The embedded mode's stand-in for a resident replying under one of the agency's posts. */
export const SandboxInboundSocial = z
  .strictObject({
    channel: Channel.refine((c) => !NOT_SOCIAL.includes(c), 'must be a social channel'),
    inReplyTo: z
      .string()
      .min(1, 'is required')
      .max(256)
      .meta({ description: "the providerMessageId of the agency's post (see GET /v1/sandbox/outbox)" }),
    author: z
      .string()
      .min(1, 'is required')
      .max(100)
      .meta({ description: 'the public handle, e.g. @resident' }),
    text: z.string().max(8000),
  })
  .meta({ id: 'SandboxInboundSocial' });

export const SandboxInboundSocialOutcome = z
  .union([
    z.object({ tipId: z.string(), reference: z.string(), created: z.boolean() }),
    z.object({ ignored: z.string() }),
  ])
  .meta({ id: 'SandboxInboundSocialOutcome' });

// ---------------------------------------------------------------- the OpenAPI document

type Json = Record<string, unknown>;

/** What each tips operation takes and answers, for schemas/openapi.ts (which lends its helpers). */
export function tipOperations(h: {
  ref: (id: string) => Json;
  jsonBody: (id: string, description: string) => Json;
  problem: (description: string) => Json;
  idempotencyKey: Json;
}): Record<string, Json> {
  const { ref, jsonBody, problem, idempotencyKey } = h;
  const body = (id: string, required = true) => ({
    required,
    content: { 'application/json': { schema: ref(id) } },
  });
  return {
    submitTip: {
      parameters: [idempotencyKey],
      requestBody: body('TipRequest'),
      responses: {
        '202': jsonBody('TipAccepted', 'Stored; the reference is what to quote when calling the agency'),
        '422': problem(
          'alertId names no alert the public has seen; or Idempotency-Key reused with another body',
        ),
        '429': problem(
          'Too many tips from this client (10 an hour) or naming this contact (5 an hour); see Retry-After',
        ),
      },
    },
    listTips: {
      parameters: [
        { name: 'alertId', in: 'query', schema: { type: 'string' } },
        { name: 'state', in: 'query', schema: ref('TipState') },
        { name: 'source', in: 'query', schema: ref('TipSource') },
        { name: 'assignee', in: 'query', schema: { type: 'string' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' } },
      ],
      responses: {
        '200': jsonBody(
          'TipList',
          'Newest first; each tip with its first message only (GET one for the thread)',
        ),
      },
    },
    countTips: {
      parameters: [
        { name: 'state', in: 'query', schema: { type: 'string', enum: ['open'], default: 'open' } },
      ],
      responses: { '200': jsonBody('TipCount', 'Open tips in all') },
    },
    getTip: {
      responses: {
        '200': jsonBody('Tip', 'The tip and its whole thread; this read is recorded in its audit trail'),
      },
    },
    getTipAudit: { responses: { '200': jsonBody('TipAuditLog', 'Oldest first; no contact in any entry') } },
    replyToTip: {
      parameters: [idempotencyKey],
      requestBody: body('TipReplyRequest'),
      responses: {
        '201': jsonBody(
          'Tip',
          "The tip with the answer in its thread: sent or failed (SMS, email), or queued (a public reply, posted by the channel's helper)",
        ),
        '409': problem(
          'The tip cannot be answered: closed, an anonymous web tip, a contact erased by retention, a social tip without "public": true, or a full thread',
        ),
      },
    },
    assignTip: {
      requestBody: body('TipAssignRequest'),
      responses: { '200': jsonBody('Tip', 'Assigned (or unassigned)') },
    },
    closeTip: {
      requestBody: body('TipNoteRequest', false),
      responses: { '200': jsonBody('Tip', 'Closed'), '409': problem('Already closed') },
    },
    reopenTip: {
      requestBody: body('TipNoteRequest', false),
      responses: { '200': jsonBody('Tip', 'Open again'), '409': problem('Already open') },
    },
    sandboxInboundSocial: {
      requestBody: body('SandboxInboundSocial'),
      responses: {
        '200': jsonBody(
          'SandboxInboundSocialOutcome',
          'The tip it became (created: false for the same reply again), or why it was ignored',
        ),
      },
    },
  };
}
