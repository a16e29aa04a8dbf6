/**
 * The channel, as the API and the queue messages name it: on its own, so that what reads only a channel (a channel
 * function parsing its job, a receipt's status) does not build every schema of the API when it loads.
 * schemas/alert.ts re-exports it: one schema, one `Channel` in the OpenAPI document.
 */
import * as z from 'zod';
import { CHANNELS } from './vocabulary';

export const Channel = z.enum(CHANNELS).meta({ id: 'Channel' });
export type Channel = z.infer<typeof Channel>;
