import { describe, expect, it } from 'vitest';
import { CREDENTIALS_REJECTED_MESSAGE } from '../../functions/adapters/providers/graph';
import type { SocialPost } from '../../functions/channels/social';
import {
  createThreadsClient,
  memoryLedger,
  QUOTA_FALLBACK_RETRY_MS,
  THREADS_API_VERSION,
} from '../../functions/channels/threads/client';
import { FakeSecrets, FakeThreadsApi } from '../fakes/threads-api';
import { ManualClock, RecordingLogger } from '../helpers/fakes';
import { failureOf as failure, fakePerFile } from '../helpers/providers';

const TOKEN = 'THAAthreadsTokenNeverInALog9876543210';
const USER = '25000000000000001';
const POLL_MS = 250;
const NOW = '2030-05-01T12:00:00.000Z';

let threads: FakeThreadsApi;
fakePerFile(
  () => FakeThreadsApi.start({ token: TOKEN, userId: USER }),
  (fake) => {
    threads = fake;
  },
);

function setup(options: { maxPolls?: number; baseUrl?: string } = {}) {
  const secrets = new FakeSecrets({ threads: { userId: USER, accessToken: TOKEN } });
  const logger = new RecordingLogger();
  const sleeps: number[] = [];
  const ledger = memoryLedger();
  const clock = new ManualClock(NOW);
  threads.now = () => clock.now();
  const client = createThreadsClient({
    ...{ secrets, logger, clock, ledger, baseUrl: options.baseUrl ?? threads.baseUrl },
    pollIntervalMs: POLL_MS,
    maxPolls: options.maxPolls ?? 4,
    // The status checks are real; the wait between them is not, so no test sleeps.
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      sleeps.push(ms);
    },
  });
  return { secrets, logger, client, sleeps, ledger };
}

const LINK = 'https://alerts.example/alerts/01J0ALERT0000000000000000';
function post(
  extra: Partial<SocialPost> = {},
  text = `ALERT: Road closed at Main St.\n\n${LINK}`,
): SocialPost {
  return {
    alertId: '01J0ALERT0000000000000000',
    version: 1,
    text,
    link: LINK,
    idempotencyKey: `01J0ALERT0000000000000000:${extra.version ?? 1}:threads`,
    test: false,
    ...extra,
  };
}
const image = { url: 'https://cdn.example/cards/1.jpg', alt: 'Alert card: Main St. closed' };

const signal = () => new AbortController().signal;
const calls = () => threads.requests.map((r) => `${r.method} ${r.path}`);
const LIMIT = `GET ${USER}/threads_publishing_limit`;
const CREATE = `POST ${USER}/threads`;
const STATUS = expect.stringMatching(/^GET \d+$/);
const PUBLISH = `POST ${USER}/threads_publish`;
const graphError = (code: number, message: string, subcode?: number) => ({
  status: 400,
  error: { message, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}) },
});

describe('Threads client: publishing', () => {
  it('checks the limit, creates a TEXT container, checks it, publishes; the id is the media id', async () => {
    const { client } = setup();

    const accepted = await client.post(post(), signal());

    expect(calls()).toEqual([LIMIT, CREATE, STATUS, PUBLISH]);
    const [limit, create, status, publish] = threads.requests;
    expect(limit!.query).toEqual({ fields: 'quota_usage,config' });
    expect(create!.body).toEqual({ media_type: 'TEXT', text: post().text, link_attachment: LINK });
    const [container] = threads.containers.values();
    expect(status!.path).toBe(container!.id);
    expect(status!.query.fields).toBe('status,error_message');
    expect(publish!.body).toEqual({ creation_id: container!.id });
    expect(accepted.providerMessageId).toBe(threads.ownMedia()[0]!.id);
    expect(accepted.providerMessageId).not.toBe(container!.id);
    for (const request of threads.requests) {
      expect(request.version).toBe(THREADS_API_VERSION);
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.url).not.toContain(TOKEN);
      expect(JSON.stringify(request.body)).not.toContain(TOKEN);
    }
  });

  it('an IMAGE container is checked until FINISHED, with alt text, and Threads fetches the image itself', async () => {
    const { client, sleeps } = setup();
    threads.pollsUntilFinished = 2;

    await client.post(post({ image }), signal());

    expect(calls()).toEqual([LIMIT, CREATE, STATUS, STATUS, STATUS, PUBLISH]);
    expect(threads.requests[1]!.body).toEqual({
      media_type: 'IMAGE',
      image_url: image.url,
      alt_text: image.alt,
      text: post().text,
    });
    expect(sleeps).toEqual([POLL_MS, POLL_MS]);
    expect(threads.ownMedia()[0]!.mediaType).toBe('IMAGE');
  });

  it('an update replies to the previous post and a cancel to the update: one thread, against the reply limit', async () => {
    const { client } = setup();
    const first = await client.post(post(), signal());
    const update = await client.post(
      post({ version: 2, inReplyTo: first.providerMessageId }, `UPDATE: Main St. reopened.\n\n${LINK}`),
      signal(),
    );
    threads.requests.length = 0;
    const cancel = await client.post(
      post({ version: 3, inReplyTo: update.providerMessageId }, `CANCEL: all clear.\n\n${LINK}`),
      signal(),
    );

    expect(threads.requests[0]!.query).toEqual({ fields: 'reply_quota_usage,reply_config' });
    expect(threads.requests[1]!.body.reply_to_id).toBe(update.providerMessageId);
    expect(threads.ownMedia().map((m) => [m.id, m.replyTo])).toEqual([
      [first.providerMessageId, undefined],
      [update.providerMessageId, first.providerMessageId],
      [cancel.providerMessageId, update.providerMessageId],
    ]);
    expect(threads.quota.usage).toBe(1);
    expect(threads.replyQuota.usage).toBe(2);
  });

  it('when the post to reply to is gone, the update is posted on its own rather than lost', async () => {
    const { client, logger } = setup();

    const accepted = await client.post(post({ version: 2, inReplyTo: '17900000000999' }), signal());

    const creates = threads.requests.filter((r) => r.path === `${USER}/threads`);
    expect(creates.map((r) => r.body.reply_to_id)).toEqual(['17900000000999', undefined]);
    expect(threads.ownMedia()).toEqual([expect.objectContaining({ id: accepted.providerMessageId })]);
    expect(threads.ownMedia()[0]!.replyTo).toBeUndefined();
    expect(logger.at('warn')).toHaveLength(1);
  });

  it('a container in ERROR is permanent, with its error message, and nothing is published', async () => {
    const { client } = setup();
    threads.containerOutcome = 'ERROR';

    const error = await failure(client.post(post({ image }), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('ERROR (UNKNOWN)');
    expect(calls()).not.toContain(PUBLISH);
  });

  it('a container that EXPIRED, or still IN_PROGRESS after maxPolls, is retryable and nothing is published', async () => {
    const expired = setup();
    threads.containerOutcome = 'EXPIRED';
    expect((await failure(expired.client.post(post(), signal()))).kind).toBe('retryable');

    threads.reset();
    const slow = setup({ maxPolls: 3 });
    threads.pollsUntilFinished = 10;
    const error = await failure(slow.client.post(post({ image }), signal()));

    expect(error.kind).toBe('retryable');
    expect(threads.requests.filter((r) => r.method === 'GET' && threads.containers.has(r.path))).toHaveLength(
      3,
    );
    expect(slow.sleeps).toHaveLength(2);
    expect(threads.ownMedia()).toEqual([]);
  });

  it('refuses a Test post, an empty one and one over 500 characters as Threads counts them, calling nothing', async () => {
    const { client } = setup();

    const test = await failure(client.post(post({ test: true }), signal()));
    const empty = await failure(client.post(post({}, '  '), signal()));
    // 126 emoji of 4 UTF-8 bytes each: 126 code points, 504 as Threads counts.
    const long = await failure(client.post(post({}, '🚨'.repeat(126)), signal()));

    expect([test.kind, empty.kind, long.kind]).toEqual(['permanent', 'permanent', 'permanent']);
    expect(long.reason).toContain('504');
    expect(threads.requests).toHaveLength(0);
  });
});

describe('Threads client: the publishing limit', () => {
  it('250 posts used: retryable until the oldest in the window leaves it, and no container is created', async () => {
    const { client } = setup();
    threads.quota = { usage: 250, total: 250, durationSeconds: 86_400 };
    threads.pageSize = 2;
    threads.ownPost('old', new Date('2030-04-29T09:00:00Z'));
    threads.ownPost('oldest in the window', new Date('2030-04-30T14:00:00Z'));
    threads.ownPost('a', new Date('2030-05-01T09:00:00Z'));
    threads.ownPost('b', new Date('2030-05-01T11:00:00Z'));

    const error = await failure(client.post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(2 * 60 * 60 * 1000);
    expect(error.reason).toContain('250 of 250 posts');
    expect(calls()).not.toContain(CREATE);
    expect(threads.containers.size).toBe(0);
  });

  it('replies count against their own limit: a spent reply limit holds an update, not a new alert', async () => {
    const { client } = setup();
    const first = await client.post(post(), signal());
    threads.replyQuota = { usage: 1000, total: 1000, durationSeconds: 86_400 };
    threads.ownPost('a reply', new Date('2030-04-30T20:00:00Z'), first.providerMessageId);

    const update = await failure(
      client.post(post({ version: 2, inReplyTo: first.providerMessageId }), signal()),
    );
    const another = await client.post(
      post({ alertId: 'other', idempotencyKey: 'other:1:threads' }),
      signal(),
    );

    expect(update.kind).toBe('retryable');
    expect(update.reason).toContain('1000 of 1000 replies');
    expect(update.retryAfterMs).toBe(8 * 60 * 60 * 1000);
    expect(another.providerMessageId).toBeTruthy();
  });

  it('waits a fallback hour when the window cannot be seen', async () => {
    const { client } = setup();
    threads.quota = { usage: 5, total: 5, durationSeconds: 86_400 };

    const error = await failure(client.post(post(), signal()));

    expect(error.retryAfterMs).toBe(QUOTA_FALLBACK_RETRY_MS);
  });

  it('threads_publish refusing for the limit is retryable with a wait', async () => {
    const { client } = setup();
    threads.fail(
      { pathEndsWith: '/threads_publish' },
      graphError(9, 'Application request limit reached', 2207042),
    );

    const error = await failure(client.post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('Threads client: errors', () => {
  it('code 190 re-reads the secret once: a rotated token posts, once', async () => {
    const { client, secrets } = setup();
    threads.token = 'THAArotatedToken';
    secrets.rotate('threads', { userId: USER, accessToken: 'THAArotatedToken' });

    await client.post(post(), signal());

    expect(secrets.reads).toEqual([
      { name: 'threads', refresh: false },
      { name: 'threads', refresh: true },
    ]);
    expect(threads.ownMedia()).toHaveLength(1);
  });

  it('a token still refused is permanent "credentials expired", logged for the alarm, the token nowhere', async () => {
    const { client, logger } = setup();
    threads.token = 'THAAanotherToken';

    const error = await failure(client.post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^credentials expired/);
    expect(error.reason).not.toContain(TOKEN);
    expect(logger.at('error')).toEqual([
      { level: 'error', message: CREDENTIALS_REJECTED_MESSAGE, extra: [{ channel: 'threads', code: 190 }] },
    ]);
  });

  it('rate limits (4, 17, 32, 613, 80004) and 5xx are retryable, after the wait the usage header gives', async () => {
    const { client } = setup();
    for (const code of [4, 17, 32, 613, 80004]) {
      threads.fail(
        { pathEndsWith: '/threads' },
        {
          ...graphError(code, 'Application request limit reached'),
          headers: { 'x-app-usage': JSON.stringify({ call_count: 100, estimated_time_to_regain_access: 7 }) },
        },
      );
      const error = await failure(client.post(post(), signal()));
      expect([code, error.kind, error.retryAfterMs]).toEqual([code, 'retryable', 7 * 60_000]);
    }
    threads.fail({ pathEndsWith: '/threads' }, { status: 503, rawBody: 'Service Unavailable' });
    expect((await failure(client.post(post(), signal()))).kind).toBe('retryable');
    expect(threads.ownMedia()).toEqual([]);
  });

  it('publishing before Threads finished the container ("Media Not Found") is retryable: nothing was published', async () => {
    const { client } = setup();
    threads.fail(
      { pathEndsWith: '/threads_publish' },
      graphError(24, 'The requested resource does not exist', 4279009),
    );

    const error = await failure(client.post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('nothing was published');
  });

  it('a refused parameter is permanent, with the code and the trace id', async () => {
    const { client } = setup();
    threads.fail({ pathEndsWith: '/threads' }, graphError(100, 'Invalid parameter', 2207052));

    const error = await failure(client.post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/Invalid parameter \(code 100, subcode 2207052, fbtrace_id \S+\)/);
  });

  it('an unreadable answer to the publish is an unknown outcome; one to a read is not', async () => {
    const { client } = setup();
    threads.fail({ pathEndsWith: '/threads_publish' }, { status: 200, rawBody: '<html>' });
    expect((await failure(client.post(post(), signal()))).kind).toBe('unknown-outcome');

    threads.fail({ pathEndsWith: '/threads_publishing_limit' }, { status: 200, rawBody: '<html>' });
    expect((await failure(client.post(post({ idempotencyKey: 'k2' }), signal()))).kind).toBe('retryable');
  });

  it('nothing listening is retryable; an abort while the container is processed is retryable', async () => {
    const closed = await FakeThreadsApi.start();
    const baseUrl = closed.baseUrl;
    await closed.close();
    expect((await failure(setup({ baseUrl }).client.post(post(), signal()))).kind).toBe('retryable');

    const { client } = setup();
    threads.hang({ method: 'GET', pathMatches: /^\d+$/ });
    const controller = new AbortController();
    const sending = failure(client.post(post(), controller.signal));
    await threads.waitUntil((r) => r.method === 'GET' && threads.containers.has(r.path));
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    expect((await sending).kind).toBe('retryable');
    expect(threads.ownMedia()).toEqual([]);
  });
});

describe('Threads client: exactly once when a publish goes unanswered', () => {
  /** Sends `p` while the fake answers its publish per `lose`; the attempt ends in an unknown outcome. */
  async function lostPublish(
    client: ReturnType<typeof setup>['client'],
    p: SocialPost,
    lose: 'hang' | 'drop',
  ) {
    const controller = new AbortController();
    if (lose === 'hang') threads.hang({ pathEndsWith: '/threads_publish' });
    else threads.dropAnswer({ pathEndsWith: '/threads_publish' });
    const sending = failure(client.post(p, controller.signal));
    await threads.waitUntil((r) => r.path.endsWith('/threads_publish'));
    if (lose === 'hang') controller.abort(new DOMException('deadline', 'TimeoutError'));
    const error = await sending;
    expect(error.kind).toBe('unknown-outcome');
  }

  it('the publish never landed: the retry publishes the same container, and no second one is made', async () => {
    const { client } = setup();
    await lostPublish(client, post(), 'hang');
    expect(threads.ownMedia()).toEqual([]);

    const accepted = await client.post(post(), signal());

    expect(threads.containers.size).toBe(1);
    expect(threads.ownMedia()).toEqual([expect.objectContaining({ id: accepted.providerMessageId })]);
    expect(calls().filter((c) => c === CREATE)).toHaveLength(1);
  });

  it('the publish landed: the retry finds the post by its container and publishes nothing', async () => {
    const { client } = setup();
    await lostPublish(client, post(), 'drop');
    expect(threads.ownMedia()).toHaveLength(1);
    threads.requests.length = 0;

    const accepted = await client.post(post(), signal());

    expect(accepted.providerMessageId).toBe(threads.ownMedia()[0]!.id);
    expect(calls()).toEqual([STATUS, `GET ${USER}/threads`]);
    expect([...threads.containers.values()].map((c) => c.publishes)).toEqual([1]);
  });

  it('a reply that landed is found among the replies, not mistaken for a resident quoting it', async () => {
    const { client } = setup();
    const first = await client.post(post(), signal());
    const update = post({ version: 2, inReplyTo: first.providerMessageId }, `UPDATE: reopened.\n\n${LINK}`);
    await lostPublish(client, update, 'drop');
    threads.residentReply(first.providerMessageId, update.text, 'copycat');

    const accepted = await client.post(update, signal());

    const ours = threads.ownMedia().find((m) => m.replyTo === first.providerMessageId);
    expect(accepted.providerMessageId).toBe(ours!.id);
    expect(threads.ownMedia()).toHaveLength(2);
  });

  it('published but not found, or refused a second publish: still unknown, and nothing more is posted', async () => {
    const { client } = setup();
    await lostPublish(client, post(), 'drop');
    threads.media.length = 0;
    expect((await failure(client.post(post(), signal()))).reason).toContain('not found');

    threads.reset();
    const other = setup();
    await lostPublish(other.client, post(), 'hang');
    threads.fail(
      { pathEndsWith: '/threads_publish' },
      graphError(24, 'The requested resource does not exist', 4279009),
    );
    const refused = await failure(other.client.post(post(), signal()));
    expect(refused.kind).toBe('unknown-outcome');
    expect(await other.ledger.get(post().idempotencyKey)).toBeDefined();
  });

  it('a pending container that EXPIRED published nothing: the retry starts over', async () => {
    const { client } = setup();
    await lostPublish(client, post(), 'hang');
    const [stale] = threads.containers.values();
    stale!.status = 'EXPIRED';

    const accepted = await client.post(post(), signal());

    expect(threads.containers.size).toBe(2);
    expect(threads.ownMedia()).toEqual([expect.objectContaining({ id: accepted.providerMessageId })]);
  });
});
