/**
 * GET and POST /v1/inbound/meta: Meta's webhooks for the agency's Facebook Page and Instagram account. The GET is
 * the subscription handshake; each POST carries changes, and the comments among them become tips linked to the
 * alert whose post they are under (TipIntake decides which alert, and drops what answers no post of Herald's).
 *
 * The route is public (Meta cannot present a JWT) and trusts only what Meta signed: X-Hub-Signature-256, the
 * HMAC-SHA256 of the raw body under the app secret, checked before the body is even parsed. Nothing reaches the
 * intake otherwise. The answer is quick: Meta waits a few seconds and retries a delivery it got no 200 for, so a
 * comment the intake could not store makes the whole delivery fail (500) and come again; the intake stores one
 * tip per comment id, so the comments that were stored the first time are not doubled.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MetaWebhookDelivery } from '../../schemas/replies';
import {
  META_WEBHOOK_KEYS,
  type MetaAccounts,
  parseMetaDelivery,
  SIGNATURE_HEADER,
  sameSecret,
  verifyMetaSignature,
} from '../adapters/providers/meta-replies';
import { badRequest, forbidden, HttpProblem, payloadTooLarge } from '../core/errors';
import type { SecretSource, TipIntake } from '../ports';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, header, json, MAX_BODY_BYTES } from './http';

export const META_WEBHOOK_PATH = '/v1/inbound/meta';

/** The secrets a Meta delivery may be signed under: one app may serve the Page and the Instagram account. */
const META_SECRETS = ['facebook', 'instagram'] as const;

export interface MetaWebhookOptions {
  /** The `facebook` and `instagram` secrets: appSecret, webhookVerifyToken, and the account ids. */
  secrets: SecretSource;
  intake: TipIntake;
}

type Operation = (deps: ApiDeps, input: OperationInput) => Promise<ApiResult>;

/** Meta's challenge is a number; anything else is echoed by nobody (it would be text Herald was made to say). */
const CHALLENGE = /^[A-Za-z0-9_.-]{1,128}$/;

const unsigned = (detail: string) =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, undefined, {
    'www-authenticate': 'X-Hub-Signature-256',
  });

function rawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  // API Gateway hands a JSON body over as its UTF-8 text, other media types base64: either way, the bytes Meta sent.
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

async function readSecrets(secrets: SecretSource) {
  const found = await Promise.all(META_SECRETS.map((name) => secrets.get(name)));
  const values = (key: string) => [
    ...new Set(found.map((s) => s?.[key]?.trim()).filter((v): v is string => Boolean(v))),
  ];
  const accounts: MetaAccounts = { pageId: found[0]?.pageId, igUserId: found[1]?.igUserId };
  return {
    appSecrets: values(META_WEBHOOK_KEYS.appSecret),
    verifyTokens: values(META_WEBHOOK_KEYS.verifyToken),
    accounts,
  };
}

/** GET: answers `hub.challenge` when `hub.mode` is subscribe and `hub.verify_token` is the configured one. */
export function metaWebhookVerify(options: MetaWebhookOptions): Operation {
  return async (deps, { event }) => {
    const query = event.queryStringParameters ?? {};
    const mode = query['hub.mode'];
    const token = query['hub.verify_token'] ?? '';
    const challenge = query['hub.challenge'] ?? '';
    const { verifyTokens } = await readSecrets(options.secrets);
    if (verifyTokens.length === 0) {
      deps.logger.warn(
        'Meta webhook handshake refused: no webhookVerifyToken in the facebook or instagram secret',
      );
      throw forbidden('The webhook is not configured.');
    }
    // Every configured token is compared, so the answer's timing does not tell which (or whether one) was close.
    const matches = verifyTokens.map((expected) => sameSecret(token, expected)).some(Boolean);
    if (mode !== 'subscribe' || !matches || !CHALLENGE.test(challenge))
      throw forbidden('The verify token does not match.');
    deps.logger.info('Meta webhook subscription verified');
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
      body: challenge,
    };
  };
}

/** POST: verifies the signature, then hands every new comment by someone else to the intake. */
export function metaWebhookReceive(options: MetaWebhookOptions): Operation {
  return async (deps, { event }) => {
    const bytes = rawBody(event);
    if (bytes.length > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
    const signature = header(event, SIGNATURE_HEADER);
    if (!signature) throw unsigned('The delivery carries no X-Hub-Signature-256.');
    const { appSecrets, accounts } = await readSecrets(options.secrets);
    if (appSecrets.length === 0) {
      deps.logger.warn('Meta webhook delivery refused: no appSecret in the facebook or instagram secret');
      throw forbidden('The webhook is not configured.');
    }
    if (!verifyMetaSignature(bytes, signature, appSecrets)) {
      deps.logger.warn('Meta webhook delivery refused: the signature does not verify');
      throw forbidden('X-Hub-Signature-256 does not match the body.');
    }

    let delivery: MetaWebhookDelivery;
    try {
      delivery = MetaWebhookDelivery.parse(JSON.parse(bytes.toString('utf8')));
    } catch {
      // Signed by Meta yet unreadable: a retry would be the same bytes, so it is refused, not failed.
      throw badRequest('The delivery is not a Meta webhook object.');
    }
    const parsed = parseMetaDelivery(delivery, accounts, deps.clock.now());
    let received = 0;
    for (const reply of parsed.replies) {
      const outcome = await options.intake.receiveSocialReply(reply);
      if ('ignored' in outcome)
        deps.logger.info('comment not taken as a tip', {
          channel: reply.channel,
          externalId: reply.externalId,
          reason: outcome.ignored,
        });
      else received += 1;
    }
    if (parsed.ignored.length > 0)
      deps.logger.debug('Meta webhook changes passed over', { object: delivery.object, why: parsed.ignored });
    return json(200, { received, ignored: parsed.ignored.length + parsed.replies.length - received });
  };
}

/** Both operations, keyed by the route table's operation ids (schemas/routes.ts). */
export const metaWebhookOperations = (options: MetaWebhookOptions) => ({
  metaWebhookVerify: metaWebhookVerify(options),
  metaWebhookReceive: metaWebhookReceive(options),
});
