import { describe, expect, it } from 'vitest';
import { CREDENTIALS_REJECTED_MESSAGE, GRAPH_API_VERSION } from '../../functions/adapters/providers/graph';
import { createFacebookProvider } from '../../functions/channels/facebook/client';
import type { ChannelContent, OutboundMessage } from '../../functions/ports';
import { FakeGraphApi, FakeSecrets } from '../fakes/graph-api';
import { RecordingLogger } from '../helpers/fakes';
import { failureOf as failure, fakePerFile } from '../helpers/providers';

const TOKEN = 'EAAGpageTokenThatMustNeverLeak0123456789';
const PAGE = '104000000000001';

let graph: FakeGraphApi;
fakePerFile(
  () => FakeGraphApi.start({ token: TOKEN, pageId: PAGE }),
  (fake) => {
    graph = fake;
  },
);

function setup() {
  const secrets = new FakeSecrets({ facebook: { pageId: PAGE, pageAccessToken: TOKEN } });
  const logger = new RecordingLogger();
  const provider = createFacebookProvider({ secrets, baseUrl: graph.baseUrl, logger });
  return { secrets, logger, provider };
}

function message(
  content: Partial<Extract<ChannelContent, { channel: 'facebook' }>> = {},
  extra: Partial<OutboundMessage> = {},
): OutboundMessage {
  const facebook = { channel: 'facebook' as const, text: 'ALERT: Road closed at Main St.', ...content };
  return {
    channel: 'facebook',
    alertId: '01J0ALERT0000000000000000',
    version: 1,
    recipient: 'agency-page',
    text: facebook.text,
    content: facebook,
    idempotencyKey: '01J0ALERT0000000000000000:1:facebook:agency-page',
    test: false,
    ...extra,
  };
}

const signal = () => new AbortController().signal;

describe('Facebook provider: posting', () => {
  it('posts a new alert to the page feed with its link, the token in the Authorization header', async () => {
    // Prepare
    const { provider } = setup();

    // Act
    const accepted = await provider.send(message({ link: 'https://alerts.example/a/1' }), signal());

    // Assess
    expect(accepted.providerMessageId).toMatch(new RegExp(`^${PAGE}_\\d+$`));
    expect(graph.requests).toHaveLength(1);
    const [request] = graph.requests;
    expect(request).toMatchObject({
      method: 'POST',
      version: GRAPH_API_VERSION,
      path: `${PAGE}/feed`,
      body: { message: 'ALERT: Road closed at Main St.', link: 'https://alerts.example/a/1' },
    });
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(graph.posts).toEqual([expect.objectContaining({ id: accepted.providerMessageId, kind: 'feed' })]);
  });

  it('posts a photo with a caption when the alert has an image, and answers the feed story id', async () => {
    const { provider } = setup();

    const accepted = await provider.send(
      message({
        link: 'https://alerts.example/a/1',
        image: { url: 'https://cdn.example/cards/1.jpg', alt: 'Alert card: road closed' },
      }),
      signal(),
    );

    const [request] = graph.requests;
    expect(request).toMatchObject({ method: 'POST', path: `${PAGE}/photos` });
    expect(request!.body.url).toBe('https://cdn.example/cards/1.jpg');
    // A photo post takes no link field, so the link rides in the caption.
    expect(request!.body.caption).toBe('ALERT: Road closed at Main St.\n\nhttps://alerts.example/a/1');
    // The post_id (page_post), not the bare photo id, is what comments attach to.
    expect(accepted.providerMessageId).toBe(graph.posts[0]!.id);
    expect(accepted.providerMessageId).toMatch(new RegExp(`^${PAGE}_`));
  });

  it('posts an update as a comment on the original post', async () => {
    const { provider } = setup();
    const original = await provider.send(message(), signal());

    const update = await provider.send(
      message({ text: 'UPDATE: Main St. reopened.' }, { version: 2, inReplyTo: original.providerMessageId }),
      signal(),
    );

    expect(graph.requests.map((r) => r.path)).toEqual([
      `${PAGE}/feed`,
      `${original.providerMessageId}/comments`,
    ]);
    expect(graph.requests[1]!.body).toEqual({ message: 'UPDATE: Main St. reopened.' });
    expect(graph.posts[1]).toMatchObject({
      id: update.providerMessageId,
      kind: 'comment',
      parent: original.providerMessageId,
    });
  });

  it('posts an update on its own when the original post is gone, and says so in the log', async () => {
    const { provider, logger } = setup();

    const update = await provider.send(
      message({ text: 'CANCEL: all clear.' }, { version: 2, inReplyTo: `${PAGE}_999` }),
      signal(),
    );

    expect(graph.requests.map((r) => r.path)).toEqual([`${PAGE}_999/comments`, `${PAGE}/feed`]);
    expect(graph.posts).toEqual([expect.objectContaining({ id: update.providerMessageId, kind: 'feed' })]);
    expect(logger.at('warn')).toHaveLength(1);
  });

  it('refuses a Test or Exercise message without calling Graph', async () => {
    const { provider } = setup();

    const error = await failure(provider.send(message({}, { test: true }), signal()));

    expect(error.kind).toBe('permanent');
    expect(graph.requests).toHaveLength(0);
  });
});

describe('Facebook provider: Graph errors', () => {
  it.each([
    { code: 4, message: '(#4) Application request limit reached' },
    { code: 17, message: '(#17) User request limit reached' },
    { code: 32, message: '(#32) Page request limit reached' },
    { code: 341, message: '(#341) Application limit reached' },
    { code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' },
  ])(
    'code $code is retryable, after the time the usage header announces',
    async ({ code, message: text }) => {
      const { provider } = setup();
      graph.fail(
        { pathEndsWith: '/feed' },
        {
          status: 400,
          error: { message: text, type: 'OAuthException', code },
          headers: {
            'x-business-use-case-usage': JSON.stringify({
              [PAGE]: [
                {
                  type: 'pages',
                  call_count: 100,
                  total_cputime: 12,
                  total_time: 40,
                  estimated_time_to_regain_access: 7,
                },
              ],
            }),
          },
        },
      );

      const error = await failure(provider.send(message(), signal()));

      expect(error.kind).toBe('retryable');
      expect(error.retryAfterMs).toBe(7 * 60_000);
      expect(error.reason).toContain(text);
      expect(graph.posts).toHaveLength(0);
    },
  );

  it('reads the wait from x-app-usage too, and leaves it to the backoff when no header says', async () => {
    const { provider } = setup();
    graph.fail(
      { pathEndsWith: '/feed' },
      {
        status: 400,
        error: { message: '(#4) Application request limit reached', code: 4 },
        headers: { 'x-app-usage': JSON.stringify({ call_count: 100, estimated_time_to_regain_access: 3 }) },
      },
    );
    graph.fail(
      { pathEndsWith: '/feed' },
      { status: 400, error: { message: 'Application request limit', code: 4 } },
    );

    const withHeader = await failure(provider.send(message(), signal()));
    const without = await failure(provider.send(message(), signal()));

    expect(withHeader.retryAfterMs).toBe(3 * 60_000);
    expect(without.kind).toBe('retryable');
    expect(without.retryAfterMs).toBeUndefined();
  });

  it.each([
    { status: 500, error: { message: 'An unknown error has occurred.', code: 1 } },
    { status: 503, error: { message: 'Service temporarily unavailable', code: 2, is_transient: true } },
    { status: 502, rawBody: '<html>Bad Gateway</html>' },
  ])('HTTP $status is retryable', async (failureScript) => {
    const { provider } = setup();
    graph.fail({ pathEndsWith: '/feed' }, failureScript);

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
  });

  it('code 190 is permanent "credentials expired", re-reads the secret once, and logs the alarm line', async () => {
    // Prepare: Graph no longer takes the token the function holds, and the secret was not rotated.
    const { provider, logger, secrets } = setup();
    graph.token = 'EAAGsomeOtherToken';

    // Act
    const error = await failure(provider.send(message(), signal()));

    // Assess
    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^credentials expired/);
    expect(error.reason).toContain('190');
    expect(secrets.reads).toEqual([
      { name: 'facebook', refresh: false },
      { name: 'facebook', refresh: true },
    ]);
    // The same token is not sent twice: one rejected call.
    expect(graph.requests).toHaveLength(1);
    expect(logger.at('error')).toEqual([
      { level: 'error', message: CREDENTIALS_REJECTED_MESSAGE, extra: [{ channel: 'facebook', code: 190 }] },
    ]);
    expect(CREDENTIALS_REJECTED_MESSAGE).toBe('provider credentials rejected');
  });

  it('after code 190, a token rotated in the secret store is picked up and the post goes out', async () => {
    const { provider, logger, secrets } = setup();
    graph.token = 'EAAGrotatedToken';
    secrets.rotate('facebook', { pageId: PAGE, pageAccessToken: 'EAAGrotatedToken' });

    const accepted = await provider.send(message(), signal());

    expect(accepted.providerMessageId).toBe(graph.posts[0]!.id);
    expect(graph.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      'Bearer EAAGrotatedToken',
    ]);
    expect(logger.at('error')).toHaveLength(0);
  });

  it('code 506 is a permanent "duplicate post"', async () => {
    const { provider } = setup();
    graph.fail(
      { pathEndsWith: '/feed' },
      { status: 400, error: { message: 'Duplicate status message', type: 'OAuthException', code: 506 } },
    );

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^duplicate post/);
  });

  it("any other 4xx is permanent with Graph's message", async () => {
    const { provider, logger } = setup();
    graph.fail(
      { pathEndsWith: '/feed' },
      {
        status: 403,
        error: {
          message: "(#200) The user hasn't authorized the application",
          type: 'OAuthException',
          code: 200,
        },
      },
    );

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain("(#200) The user hasn't authorized the application");
    expect(logger.at('error')).toHaveLength(0);
  });

  it('never puts the token in a URL or an error message, even when Graph echoes it', async () => {
    const { provider } = setup();
    graph.fail(
      { pathEndsWith: '/feed' },
      {
        status: 400,
        error: { message: `Malformed access token ${TOKEN}`, type: 'OAuthException', code: 100 },
      },
    );

    const error = await failure(provider.send(message(), signal()));
    await provider.send(message({ image: { url: 'https://cdn.example/c.jpg', alt: 'card' } }), signal());
    graph.token = 'EAAGanother';
    const rejected = await failure(provider.send(message(), signal()));

    expect(error.reason).not.toContain(TOKEN);
    expect(error.reason).toContain('[redacted]');
    expect(rejected.reason).not.toContain(TOKEN);
    expect(graph.requests.length).toBeGreaterThanOrEqual(3);
    for (const request of graph.requests) {
      expect(request.url).not.toContain(TOKEN);
      expect(request.query.access_token).toBeUndefined();
      expect(JSON.stringify(request.body)).not.toContain(TOKEN);
    }
  });
});

describe('Facebook provider: lost answers', () => {
  it('a call aborted after it was sent is an unknown outcome', async () => {
    const { provider } = setup();
    graph.hang({ pathEndsWith: '/feed' });
    const controller = new AbortController();

    const sending = failure(provider.send(message(), controller.signal));
    await graph.waitForRequests(1);
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    const error = await sending;

    expect(error.kind).toBe('unknown-outcome');
    expect(error.reason).not.toContain(TOKEN);
  });

  it('a call cancelled before it was sent is retryable: nothing can have been posted', async () => {
    const { provider } = setup();
    const controller = new AbortController();
    controller.abort();

    const error = await failure(provider.send(message(), controller.signal));

    expect(error.kind).toBe('retryable');
    expect(graph.requests).toHaveLength(0);
  });

  it('a refused connection is retryable', async () => {
    const closed = await FakeGraphApi.start();
    const baseUrl = closed.baseUrl;
    await closed.close();
    const provider = createFacebookProvider({
      secrets: new FakeSecrets({ facebook: { pageId: PAGE, pageAccessToken: TOKEN } }),
      baseUrl,
    });

    const error = await failure(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
  });
});
