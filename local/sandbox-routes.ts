/**
 * The embedded mode's sandbox routes (api.md, "Embedded mode only"): what the sandbox providers accepted, faults
 * to inject, a resident's text to the agency's number, and a resident's public reply under one of its posts.
 * Answered by the embedded server itself; they do not exist on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { InMemoryFaults } from '../functions/adapters/providers/sandbox';
import { fieldErrors } from '../functions/api/http';
import type { InboundOutcome, InboundSms } from '../functions/api/inbound-sms';
import type { OutboxStore, TipIntake } from '../functions/ports';
import { maskUrl } from '../functions/shared/mask';
import { Channel } from '../schemas/alert';
import { SandboxFaults } from '../schemas/sandbox';
import { SandboxInboundSms } from '../schemas/subscriptions';
import { SandboxInboundSocial } from '../schemas/tips';
import { problem, readJsonBody, sendJson } from './http-replies';

const MAX_BODY = 16 * 1024;

const OutboxQuery = z.strictObject({
  channel: Channel.optional(),
  alertId: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(2048).optional(),
});

export interface SandboxDeps {
  store: OutboxStore;
  faults: InMemoryFaults;
  /** The inbound-SMS domain function the AWS route calls too (functions/api/inbound-sms.ts). */
  inboundSms?: (sms: InboundSms) => Promise<InboundOutcome>;
  /** Where every channel's replies enter (functions/core/tips.ts createTipIntake), as the reply helpers call it. */
  tipIntake?: TipIntake;
}

export function sandboxRoutes(deps: SandboxDeps) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith('/v1/sandbox/')) return false;
    if (url.pathname === '/v1/sandbox/outbox') {
      if (req.method !== 'GET') return problem(res, 405, 'Method not allowed', 'Use GET.');
      const parsed = OutboxQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` }));
        return problem(res, 400, 'Invalid request', 'The query failed validation.', errors);
      }
      const page = await deps.store.list(parsed.data);
      // The sandbox provider stores a webhook's URL masked; an outbox kept from before it did is masked here too
      // (masking a masked URL leaves it as it is).
      const items = page.items.map(({ idempotencyKey: _key, ...item }) =>
        item.channel === 'webhook' ? { ...item, recipient: maskUrl(item.recipient) } : item,
      );
      return sendJson(res, 200, {
        items,
        total: page.total,
        ...(page.cursor ? { cursor: page.cursor } : {}),
      });
    }
    if (url.pathname === '/v1/sandbox/faults') {
      if (req.method === 'GET') return sendJson(res, 200, deps.faults.snapshot());
      if (req.method !== 'PUT') return problem(res, 405, 'Method not allowed', 'Use GET or PUT.');
      const read = await readJsonBody(req, res, MAX_BODY);
      if ('answered' in read) return true;
      const parsed = SandboxFaults.safeParse(read.body);
      if (!parsed.success)
        return problem(
          res,
          400,
          'Invalid request',
          'The faults failed validation.',
          fieldErrors(parsed.error),
        );
      for (const [channel, fault] of Object.entries(parsed.data))
        if (fault) deps.faults.set(channel as Channel, fault);
      return sendJson(res, 200, deps.faults.snapshot());
    }
    if (url.pathname === '/v1/sandbox/inbound/sms' && deps.inboundSms) {
      if (req.method !== 'POST') return problem(res, 405, 'Method not allowed', 'Use POST.');
      const read = await readJsonBody(req, res, MAX_BODY);
      if ('answered' in read) return true;
      const parsed = SandboxInboundSms.safeParse(read.body);
      if (!parsed.success)
        return problem(res, 400, 'Invalid request', 'The text failed validation.', fieldErrors(parsed.error));
      // The reply (no personal data in it) is in the answer as well as in the outbox, for a quick demo.
      const outcome = await deps.inboundSms({ ...parsed.data, via: 'sandbox' });
      return sendJson(res, 200, outcome);
    }
    if (url.pathname === '/v1/sandbox/inbound/social' && deps.tipIntake) {
      if (req.method !== 'POST') return problem(res, 405, 'Method not allowed', 'Use POST.');
      const read = await readJsonBody(req, res, MAX_BODY);
      if ('answered' in read) return true;
      const parsed = SandboxInboundSocial.safeParse(read.body);
      if (!parsed.success)
        return problem(
          res,
          400,
          'Invalid request',
          'The reply failed validation.',
          fieldErrors(parsed.error),
        );
      // A provider gives every reply an id of its own: the sandbox makes one, so each call is a new reply.
      const outcome = await deps.tipIntake.receiveSocialReply({
        ...parsed.data,
        channel: parsed.data.channel as Channel,
        externalId: `sbx-reply-${randomUUID()}`,
        at: new Date().toISOString(),
      });
      return sendJson(res, 200, outcome);
    }
    return false;
  };
}
