/**
 * The tamper-evident audit log's route (api.md, "Impact and accountability"): GET /v1/audit/verify's query and answer.
 * The checks are functions/core/audit-verify.ts's; the reasons are sentences for a person.
 */
import * as z from 'zod';

export const AuditVerifyQuery = z.strictObject({
  alertId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional()
    .meta({ description: "Verify one alert's chain only" }),
});

export const AuditVerification = z
  .object({
    ok: z.boolean().meta({ description: 'true when nothing is broken' }),
    checked: z.number().int().nonnegative().meta({ description: 'chained audit entries checked' }),
    broken: z.array(
      z.object({
        alertId: z
          .string()
          .optional()
          .meta({ description: 'the alert, when the entry is in an alert’s chain' }),
        entry: z.string().meta({
          description:
            '<kind>:<id>#<n> (kind alert, tip or subscriber; n the entry’s place in that chain), or <kind>:<id> for the chain as a whole',
        }),
        reason: z.string().meta({
          description:
            'hash mismatch (edited), sequence gap or prevHash mismatch (deleted, replaced, reordered), head mismatch (cut off or rewritten after its head was locked), or a difference from the alert’s versions or the tip’s or subscriber’s audit items',
        }),
      }),
    ),
  })
  .meta({ id: 'AuditVerification' });
