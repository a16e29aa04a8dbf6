import { describe, expect, it } from 'vitest';
import { CREDENTIALS_REJECTED_MESSAGE, GRAPH_API_VERSION } from '../../functions/adapters/providers/graph';
import { createInstagramProvider, QUOTA_FALLBACK_RETRY_MS } from '../../functions/channels/instagram/client';
import type { OutboundMessage } from '../../functions/ports';
import { FakeGraphApi, FakeSecrets } from '../fakes/graph-api';
import { ManualClock, RecordingLogger } from '../helpers/fakes';
import { failureOf as failure, fakePerFile } from '../helpers/providers';

const TOKEN = 'EAAGinstagramTokenNeverInALog9876543210';
const IG = '17841400000000001';
const POLL_MS = 250;

let graph: FakeGraphApi;
fakePerFile(
  () => FakeGraphApi.start({ token: TOKEN, igUserId: IG }),
  (fake) => {
    graph = fake;
  },
);

function setup(options: { maxPolls?: number; now?: string } = {}) {
  const secrets = new FakeSecrets({ instagram: { igUserId: IG, accessToken: TOKEN } });
  const logger = new RecordingLogger();
  const sleeps: number[] = [];
  const provider = createInstagramProvider({
    secrets,
    baseUrl: graph.baseUrl,
    logger,
    pollIntervalMs: POLL_MS,
    maxPolls: options.maxPolls ?? 4,
    // Polling is real, the wait between checks is not: the test need not sleep.
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      sleeps.push(ms);
    },
    clock: new ManualClock(options.now ?? '2030-05-01T12:00:00.000Z'),
  });
  return { secrets, logger, provider, sleeps };
}

function message(
  extra: Partial<OutboundMessage> = {},
  caption = 'ALERT: Road closed at Main St.',
): OutboundMessage {
  return {
    channel: 'instagram',
    alertId: '01J0ALERT0000000000000000',
    version: 1,
    recipient: 'agency',
    text: caption,
    content: {
      channel: 'instagram',
      caption,
      image: {
        url: 'https://cdn.example/cards/1.jpg',
        alt: 'Alert card: Main St. closed',
        width: 1080,
        height: 1350,
      },
    },
    idempotencyKey: '01J0ALERT0000000000000000:1:instagram:agency',
    test: false,
    ...extra,
  };
}

const signal = () => new AbortController().signal;

const calls = () => graph.requests.map((r) => `${r.method} ${r.path}`);

describe('Instagram provider: publishing', () => {
  it('checks the quota, creates a container, polls until FINISHED, then publishes', async () => {
    // Prepare: the container answers IN_PROGRESS twice.
    const { provider, sleeps } = setup();
    graph.pollsUntilFinished = 2;

    // Act
    const accepted = await provider.send(message(), signal());

    // Assess
    expect(calls()).toEqual([
      `GET ${IG}/content_publishing_limit`,
      `POST ${IG}/media`,
      expect.stringMatching(/^GET \d+$/),
      expect.stringMatching(/^GET \d+$/),
      expect.stringMatching(/^GET \d+$/),
      `POST ${IG}/media_publish`,
    ]);
    const [limit, create, , , , publish] = graph.requests;
    expect(limit!.query).toEqual({ fields: 'quota_usage,config' });
    expect(create!.body).toEqual({
      image_url: 'https://cdn.example/cards/1.jpg',
      caption: 'ALERT: Road closed at Main St.',
      alt_text: 'Alert card: Main St. closed',
    });
    const [container] = graph.containers.values();
    expect(graph.requests[2]!.path).toBe(container!.id);
    expect(graph.requests[2]!.query.fields).toContain('status_code');
    expect(publish!.body).toEqual({ creation_id: container!.id });
    expect(sleeps).toEqual([POLL_MS, POLL_MS]);
    expect(accepted.providerMessageId).toBe(graph.media[0]!.id);
    expect(graph.requests.every((r) => r.version === GRAPH_API_VERSION)).toBe(true);
    expect(graph.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('posts an update as a new post with the marked caption: Instagram has no replies for feed posts', async () => {
    const { provider } = setup();
    const first = await provider.send(message(), signal());
    graph.requests.length = 0;

    const update = await provider.send(
      message({ version: 2, inReplyTo: first.providerMessageId }, 'UPDATE: Main St. reopened.'),
      signal(),
    );

    expect(update.providerMessageId).not.toBe(first.providerMessageId);
    expect(graph.requests.find((r) => r.path === `${IG}/media`)!.body.caption).toBe(
      'UPDATE: Main St. reopened.',
    );
    expect(graph.requests.some((r) => r.path.includes(first.providerMessageId))).toBe(false);
    expect(graph.media.map((m) => m.caption)).toEqual([
      'UPDATE: Main St. reopened.',
      'ALERT: Road closed at Main St.',
    ]);
  });

  it('a container in ERROR is permanent, with the status, and nothing is published', async () => {
    const { provider } = setup();
    graph.containerOutcome = 'ERROR';

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('ERROR');
    expect(error.reason).toContain('Media download has failed');
    expect(calls()).not.toContain(`POST ${IG}/media_publish`);
  });

  it('a container that EXPIRED is permanent', async () => {
    const { provider } = setup();
    graph.containerOutcome = 'EXPIRED';

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('EXPIRED');
  });

  it('a container still IN_PROGRESS after maxPolls is retryable, and nothing is published', async () => {
    const { provider, sleeps } = setup({ maxPolls: 3 });
    graph.pollsUntilFinished = 10;

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(graph.requests.filter((r) => r.method === 'GET' && /^\d+$/.test(r.path))).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(calls()).not.toContain(`POST ${IG}/media_publish`);
  });

  it('refuses a message without an image, and a Test message, without calling Graph', async () => {
    const { provider } = setup();
    const noImage = message();
    noImage.content = { channel: 'instagram', caption: 'x' } as unknown as OutboundMessage['content'];

    const missing = await failure(provider.send(noImage, signal()));
    const test = await failure(provider.send(message({ test: true }), signal()));

    expect([missing.kind, test.kind]).toEqual(['permanent', 'permanent']);
    expect(graph.requests).toHaveLength(0);
  });
});

describe('Instagram provider: the publishing limit', () => {
  it('an exhausted quota is retryable until the oldest post in the window leaves it', async () => {
    // Prepare: 100 of 100 used; the oldest post inside the last 24 hours was 22 hours ago.
    const { provider } = setup({ now: '2030-05-01T12:00:00.000Z' });
    graph.quota = { usage: 100, total: 100, durationSeconds: 86_400 };
    graph.media.push(
      { id: '1', timestamp: '2030-05-01T11:00:00+0000', caption: '' },
      { id: '2', timestamp: '2030-04-30T14:00:00+0000', caption: '' },
      { id: '3', timestamp: '2030-04-29T09:00:00+0000', caption: '' },
    );

    // Act
    const error = await failure(provider.send(message(), signal()));

    // Assess
    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(2 * 60 * 60 * 1000);
    expect(error.reason).toContain('100 of 100');
    expect(calls()).toEqual([`GET ${IG}/content_publishing_limit`, `GET ${IG}/media`]);
  });

  it('waits a fallback hour when the window cannot be seen', async () => {
    const { provider } = setup();
    graph.quota = { usage: 25, total: 25, durationSeconds: 86_400 };

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(QUOTA_FALLBACK_RETRY_MS);
    expect(calls()).not.toContain(`POST ${IG}/media`);
  });

  it('waits a fallback hour when older posts in the window may be on a later page', async () => {
    const { provider } = setup({ now: '2030-05-01T12:00:00.000Z' });
    graph.quota = { usage: 1, total: 1, durationSeconds: 86_400 };
    graph.media.push({ id: '1', timestamp: '2030-05-01T11:00:00+0000', caption: '' });
    graph.moreMediaPages = true;

    const error = await failure(provider.send(message(), signal()));

    expect(error.retryAfterMs).toBe(QUOTA_FALLBACK_RETRY_MS);
  });

  it('media_publish refusing for the publishing limit is retryable', async () => {
    const { provider } = setup();
    graph.fail(
      { pathEndsWith: '/media_publish' },
      {
        status: 400,
        error: {
          message: 'Application request limit reached',
          type: 'OAuthException',
          code: 9,
          error_subcode: 2207042,
        },
      },
    );

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('Instagram provider: errors and lost answers', () => {
  it('code 190 is permanent "credentials expired" with the alarm log line, the token nowhere', async () => {
    const { provider, logger } = setup();
    graph.token = 'EAAGanotherToken';

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^credentials expired/);
    expect(error.reason).not.toContain(TOKEN);
    expect(logger.at('error')).toEqual([
      { level: 'error', message: CREDENTIALS_REJECTED_MESSAGE, extra: [{ channel: 'instagram', code: 190 }] },
    ]);
  });

  it('a throttled call is retryable after the announced wait', async () => {
    const { provider } = setup();
    graph.fail(
      { pathEndsWith: '/media' },
      {
        status: 400,
        error: { message: 'Instagram account rate limit', code: 80002 },
        headers: {
          'x-business-use-case-usage': JSON.stringify({
            [IG]: [{ type: 'instagram', call_count: 100, estimated_time_to_regain_access: 12 }],
          }),
        },
      },
    );

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(12 * 60_000);
  });

  it('the token travels only in the Authorization header, never in a URL', async () => {
    const { provider } = setup();
    graph.quota = { usage: 0, total: 100, durationSeconds: 86_400 };

    await provider.send(message(), signal());

    expect(graph.requests.length).toBeGreaterThanOrEqual(4);
    for (const request of graph.requests) {
      expect(request.url).not.toContain(TOKEN);
      expect(request.query.access_token).toBeUndefined();
      expect(JSON.stringify(request.body)).not.toContain(TOKEN);
    }
  });

  it('an abort after media_publish was sent is an unknown outcome', async () => {
    const { provider } = setup();
    graph.hang({ pathEndsWith: '/media_publish' });
    const controller = new AbortController();

    const sending = failure(provider.send(message(), controller.signal));
    await graph.waitUntil((r) => r.path.endsWith('/media_publish'));
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    const error = await sending;

    expect(error.kind).toBe('unknown-outcome');
  });

  it('an abort while the container is processing is retryable: nothing was published', async () => {
    const { provider } = setup();
    graph.hang({ method: 'GET', pathMatches: /^\d+$/ });
    graph.pollsUntilFinished = 5;
    const controller = new AbortController();

    const sending = failure(provider.send(message(), controller.signal));
    await graph.waitUntil((r) => r.method === 'GET' && graph.containers.has(r.path));
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    const error = await sending;

    expect(error.kind).toBe('retryable');
    expect(calls()).not.toContain(`POST ${IG}/media_publish`);
  });
});
