/**
 * The embedded mode's own routes (api.md, "Embedded mode only"): the console's sign-in, the sandbox outbox and
 * its faults. Validated by local/console.ts and local/sandbox-routes.ts; published in the OpenAPI document with
 * x-herald-embedded-only.
 */
import * as z from 'zod';
import { ROLES } from '../functions/core/model';
import { Channel } from './alert';

export const SandboxTokenRequest = z
  .strictObject({
    role: z.enum(ROLES),
    name: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(/^[\p{L}\p{N} .'’-]+$/u, 'may hold letters, digits, spaces, dots, apostrophes and hyphens')
      .optional()
      .meta({ description: "the person's name; the same name is the same person (the token's sub)" }),
  })
  .meta({ id: 'SandboxTokenRequest' });

export const SandboxToken = z
  .object({
    token: z.string().meta({ description: 'a bearer token (JWT) for that role, from this instance' }),
  })
  .meta({ id: 'SandboxToken' });

export const SandboxFault = z.strictObject({
  status: z.union([z.literal(429), z.literal(500), z.literal(400)]),
  times: z.number().int().min(0).max(1000),
});

export const SandboxFaults = z
  .partialRecord(Channel, SandboxFault)
  .superRefine((v, ctx) => {
    for (const key of Object.keys(v))
      if (!Channel.safeParse(key).success)
        ctx.addIssue({ code: 'custom', path: [key], message: 'is not a channel' });
  })
  .meta({ id: 'SandboxFaults', description: 'per channel: fail the next `times` calls with `status`' });

export const SandboxOutbox = z
  .object({
    items: z.array(
      z.object({
        channel: Channel,
        alertId: z.string(),
        version: z.number().int(),
        recipient: z.string().meta({ description: 'masked for sms and email' }),
        text: z.string(),
        providerMessageId: z.string(),
        inReplyTo: z.string().optional(),
        image: z.object({ url: z.string() }).optional(),
        at: z.string().meta({ format: 'date-time' }),
      }),
    ),
    total: z.number().int().nonnegative(),
    cursor: z.string().optional(),
  })
  .meta({ id: 'SandboxOutbox' });
