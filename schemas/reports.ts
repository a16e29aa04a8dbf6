/**
 * GET /v1/reports (api.md, "Impact and accountability"): what the query takes and what the answer holds, as zod
 * schemas the API validates with and the OpenAPI document is generated from. What each figure counts is said once,
 * in functions/core/reports.ts, and repeated here only as far as a reader of the document needs it.
 */
import * as z from 'zod';

/** Only the form is checked here; the agency's clock makes it an instant (functions/core/reports.ts). */
const dateOrDateTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be a date (2026-11-01) or an ISO 8601 date-time with an offset (2026-11-01T00:00:00+01:00)',
});

export const ReportQuery = z.strictObject({
  from: dateOrDateTime,
  to: dateOrDateTime,
  period: z.enum(['week', 'month']).default('month'),
  format: z.enum(['json', 'csv']).default('json'),
});
export type ReportQuery = z.infer<typeof ReportQuery>;

const count = z.number().int().nonnegative();
const isoDateTime = z.string().meta({ format: 'date-time' });

const figures = {
  alertsSent: count.meta({
    description: 'alerts whose first version (other than a cancel) went out in the period',
  }),
  updatesSent: count.meta({
    description: 'later versions (updates and cancels) that went out in the period',
  }),
  recipients: count.meta({
    description:
      'messages to send: one per receipt (version, channel, recipient; a social post is one), plus subscribers planned but not yet sent to; a superseded receipt is none',
  }),
  delivered: count.meta({ description: 'receipts the provider accepted (sent) or confirmed (delivered)' }),
  failed: count.meta({ description: 'receipts that failed for good' }),
  deliveryRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: 'delivered / recipients, to four decimals; null when there were no recipients' }),
  medianSecondsToLastRecipient: z.number().nonnegative().nullable().meta({
    description:
      "median over the versions of the time from a version's release to its last receipt sent, in seconds; null when none was sent",
  }),
  subscribersGained: count.meta({
    description:
      "subscribers who joined the zone's public roster (confirmed, JOIN, START, the zone added); in totals, who joined their first zone",
  }),
  subscribersLost: count.meta({
    description:
      "subscribers who left the zone's public roster (STOP, deleted, the zone removed); in totals, who left their last zone",
  }),
};

const periodFields = {
  period: z.string().meta({ description: '`2026-11` (month) or `2026-W47` (ISO week, Monday first)' }),
  periodStart: isoDateTime.meta({ description: "the period's first instant on the agency's clock, in UTC" }),
  periodEnd: isoDateTime.meta({ description: 'the first instant after the period' }),
};

export const ReportFiguresView = z.object(figures).meta({ id: 'ReportFigures' });

export const ReportRowView = z
  .object({
    ...periodFields,
    zone: z.string().meta({
      description:
        'a zone id, or `*`: agency-wide (alerts that name no zone, subscribers that follow every zone)',
    }),
    zoneName: z.string(),
    ...figures,
  })
  .meta({ id: 'ReportRow' });

export const ReportView = z
  .object({
    from: isoDateTime.meta({ description: 'the first instant counted' }),
    to: isoDateTime.meta({ description: 'the first instant not counted (a `to` date counts its whole day)' }),
    period: z.enum(['week', 'month']),
    timeZone: z.string().meta({ description: "the agency's IANA time zone the periods are read on" }),
    rows: z.array(ReportRowView).meta({
      description:
        'every period of the range (oldest first) by every zone (`*` first, then the agency’s zones): an alert to two zones counts in both, so rows do not add up to the totals',
    }),
    periods: z
      .array(z.object({ ...periodFields, ...figures }))
      .meta({ description: 'agency-wide figures per period: each alert and each subscriber counted once' }),
    totals: ReportFiguresView.meta({ description: 'the whole range, each alert and each subscriber once' }),
  })
  .meta({ id: 'Report' });
export type ReportView = z.infer<typeof ReportView>;

type Json = Record<string, unknown>;

/** The OpenAPI details of GET /v1/reports (schemas/openapi.ts). */
export function reportOperations(h: {
  ref: (id: string) => Json;
  problem: (description: string) => Json;
}): Record<string, Json> {
  const dateParam = (name: string, description: string) => ({
    name,
    in: 'query',
    required: true,
    description,
    schema: { type: 'string', examples: ['2026-11-01', '2026-11-01T00:00:00+01:00'] },
  });
  return {
    getReports: {
      parameters: [
        dateParam(
          'from',
          "The first day (a date, on the agency's clock) or instant (a date-time with an offset) to count",
        ),
        dateParam(
          'to',
          'The last day counted (a date: the whole day) or the first instant not counted (a date-time); at most 13 months after from',
        ),
        {
          name: 'period',
          in: 'query',
          schema: { type: 'string', enum: ['week', 'month'], default: 'month' },
        },
        { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
      ],
      responses: {
        '200': {
          description:
            'The report; as CSV (a header row, then the rows, every cell escaped) with ?format=csv, as an attachment',
          content: {
            'application/json': { schema: h.ref('Report') },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        '400': h.problem(
          'A bad query: each bad field named (a malformed date, to not after from, a range over 13 months)',
        ),
      },
    },
  };
}
