/**
 * What arrives when the public answers the agency's posts: Meta's webhook deliveries (Page `feed` changes and
 * Instagram `comments` changes) and the X recent-search answers the poller reads. Every object is loose: Meta
 * and X add fields without notice, and a field Herald does not read must never make a delivery fail (Meta would
 * retry it for hours, and then disable the subscription).
 */
import * as z from 'zod';

/** Meta writes ids as strings; a number is taken too (the parser turns it into its decimal string). */
const id = z.union([z.string(), z.number()]);

/** A Page `feed` change for a comment (item `comment`): who wrote what under which post. */
export const PageCommentValue = z.looseObject({
  item: z.literal('comment'),
  /** `add`; `edited`, `edit`, `remove` and `hide` are not new comments. */
  verb: z.string(),
  comment_id: id,
  /** `<page id>_<post id>`: the post, also when the comment answers another comment. */
  post_id: id,
  parent_id: id.optional(),
  /** Absent when the commenter's profile may not be shared with the app. */
  from: z.looseObject({ id: id, name: z.string().optional() }).optional(),
  message: z.string().optional(),
  /** Epoch seconds. */
  created_time: z.number().optional(),
});
export type PageCommentValue = z.infer<typeof PageCommentValue>;

/** An Instagram `comments` change: the comment, its author and the media it is under. */
export const InstagramCommentValue = z.looseObject({
  id: id,
  text: z.string().optional(),
  from: z.looseObject({ id: id, username: z.string().optional() }).optional(),
  media: z.looseObject({ id: id, media_product_type: z.string().optional() }),
  parent_id: id.optional(),
});
export type InstagramCommentValue = z.infer<typeof InstagramCommentValue>;

const Change = z.looseObject({ field: z.string(), value: z.unknown() });

/** One POST from Meta: `object` says which product, each entry one Page or Instagram account. */
export const MetaWebhookDelivery = z
  .looseObject({
    object: z.string(),
    entry: z.array(
      z.looseObject({
        /** The Page id (`page`) or the Instagram professional account id (`instagram`). */
        id: id,
        /** When Meta sent it: epoch seconds (milliseconds in some products). */
        time: z.number().optional(),
        changes: z.array(Change).optional(),
      }),
    ),
  })
  .meta({
    id: 'MetaWebhookDelivery',
    description:
      'A Meta webhook delivery (Graph API Webhooks), signed with X-Hub-Signature-256: Page `feed` comment changes and Instagram `comments` changes become tips; every other change is acknowledged and ignored',
  });
export type MetaWebhookDelivery = z.infer<typeof MetaWebhookDelivery>;

export const MetaWebhookAck = z
  .object({
    received: z.int().meta({ description: 'comments handed over as tips (new or already known)' }),
    ignored: z
      .int()
      .meta({ description: "changes that are not new comments by others on the agency's posts" }),
  })
  .meta({ id: 'MetaWebhookAck' });
export type MetaWebhookAck = z.infer<typeof MetaWebhookAck>;

// ---------------------------------------------------------------- X recent search

const XPost = z.looseObject({
  id: z.string(),
  text: z.string().default(''),
  author_id: z.string().optional(),
  conversation_id: z.string().optional(),
  created_at: z.string().optional(),
});

/** GET /2/tweets/search/recent: posts newest first, the authors in `includes.users`, `next_token` while more. */
export const XSearchAnswer = z.looseObject({
  data: z.array(XPost).optional(),
  includes: z
    .looseObject({ users: z.array(z.looseObject({ id: z.string(), username: z.string() })).optional() })
    .optional(),
  meta: z
    .looseObject({
      newest_id: z.string().optional(),
      oldest_id: z.string().optional(),
      result_count: z.number().optional(),
      next_token: z.string().optional(),
    })
    .optional(),
});
export type XSearchAnswer = z.infer<typeof XSearchAnswer>;

/** GET /2/tweets?ids=: the posts that exist; `errors` names those that do not (deleted, or not visible). */
export const XLookupAnswer = z.looseObject({
  data: z.array(XPost).optional(),
  errors: z
    .array(z.looseObject({ value: z.string().optional(), resource_id: z.string().optional() }))
    .optional(),
});

/** GET /2/users/me: the account the credentials act for. */
export const XMeAnswer = z.looseObject({
  data: z.looseObject({ id: z.string(), username: z.string() }),
});
