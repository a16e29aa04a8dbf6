/** RFC 9457 problem details, the only shape an error answer takes. */
import * as z from 'zod';

export const FieldError = z.object({
  path: z
    .string()
    .meta({ description: 'JSON Pointer (RFC 6901) to the offending field, "" for the body itself' }),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(FieldError).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;
