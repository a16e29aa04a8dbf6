import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMastodonClient } from '../../functions/channels/mastodon/client';
import { createMastodonReplyReader, plainText } from '../../functions/channels/mastodon/replies';
import type { SecretSource } from '../../functions/ports';
import { RateLimitedError } from '../../functions/replies/model';
import { MastodonApiFake, MESSAGES } from '../fakes/mastodon-api';

const INSTANCE = 'https://mastodon.example';
const TOKEN = 'token-current-0002-abcdefghijklmnop';

function secretsOf(cached: string, fresh = cached) {
  const calls: boolean[] = [];
  const source: SecretSource = {
    get: async (_name, options) => {
      calls.push(options?.refresh === true);
      return { instanceUrl: INSTANCE, accessToken: options?.refresh ? fresh : cached };
    },
  };
  return { source, calls };
}

const statusId = (providerMessageId: string) => providerMessageId.split('@')[0]!;

describe('Mastodon replies reader against a local Mastodon API', () => {
  let fake: MastodonApiFake;
  /** The agency's alert and its update, posted by the real client as the channel would. */
  let alert: string;
  let update: string;
  beforeEach(async () => {
    fake = await MastodonApiFake.start(TOKEN);
    const client = createMastodonClient({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl });
    const base = { alertId: '01ALERT', idempotencyKey: '01ALERT:1:mastodon', test: false };
    alert = (
      await client.post(
        { ...base, version: 1, text: 'Missing person: a child, last seen at the park' },
        AbortSignal.timeout(5_000),
      )
    ).providerMessageId;
    update = (
      await client.post(
        {
          ...base,
          version: 2,
          idempotencyKey: '01ALERT:2:mastodon',
          text: 'UPDATE: seen near the station',
          inReplyTo: alert,
        },
        AbortSignal.timeout(5_000),
      )
    ).providerMessageId;
  });
  afterEach(async () => {
    await fake.close();
  });

  it('finds residents’ replies however nested, oldest first, as plain text, and leaves out the agency’s own', async () => {
    const first = fake.residentReply(
      statusId(alert),
      'I saw a child & an adult <near> the bakery\n\nAround 5 pm',
    );
    const nested = fake.residentReply(first, 'Same here, by the fountain', 'neighbour');
    const onUpdate = fake.residentReply(
      statusId(update),
      'Heading to the station to look',
      'walker@city.example',
    );
    const reader = createMastodonReplyReader({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl });

    const page = await reader.repliesTo(alert);

    expect(page?.replies.map((r) => r.id)).toEqual([first, nested, onUpdate]);
    expect(page?.replies[0]).toMatchObject({
      inReplyToId: statusId(alert),
      acct: 'resident@town.example',
      text: 'I saw a child & an adult <near> the bakery\n\nAround 5 pm',
      visibility: 'public',
    });
    expect(page?.replies[1]).toMatchObject({
      acct: 'neighbour',
      inReplyToId: first,
      text: 'Same here, by the fountain',
    });
    expect(page).toMatchObject({ newestId: onUpdate, complete: true });
    expect(page?.rateLimit).toMatchObject({ limit: 300, remaining: expect.any(Number) });
    const [request] = fake.apiRequests.filter((r) => r.path.endsWith('/context'));
    expect(request).toMatchObject({ path: `/api/v1/statuses/${statusId(alert)}/context`, authorized: true });
  });

  it('hands over only replies newer than the last one seen', async () => {
    const seen = fake.residentReply(statusId(alert), 'First sighting');
    const fresh = fake.residentReply(statusId(alert), 'Second sighting');
    const reader = createMastodonReplyReader({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl });

    const page = await reader.repliesTo(alert, { sinceId: seen });

    expect(page?.replies.map((r) => r.id)).toEqual([fresh]);
    expect((await reader.repliesTo(alert, { sinceId: fresh }))?.replies).toEqual([]);
  });

  it('answers undefined for a deleted status and for a status on another instance', async () => {
    const reader = createMastodonReplyReader({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl });
    fake.deleteStatus(statusId(update));
    const before = fake.requests.length;

    expect(await reader.repliesTo(`${statusId(alert)}@old.example`)).toBeUndefined();
    expect(fake.requests).toHaveLength(before);
    expect(await reader.repliesTo(update)).toBeUndefined();
  });

  it('reads without the token once Mastodon refuses it for lacking read:statuses, and says the view is capped', async () => {
    fake.scopes = new Set(['write:statuses', 'write:media']);
    fake.residentReply(statusId(alert), 'Seen by the river');
    const reader = createMastodonReplyReader({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl });

    const page = await reader.repliesTo(alert);
    await reader.repliesTo(alert);

    expect(page).toMatchObject({ complete: false, replies: [{ text: 'Seen by the river' }] });
    const reads = fake.requests.filter((r) => r.path.endsWith('/context'));
    expect(reads.map((r) => Boolean(r.headers.authorization))).toEqual([true, false, false]);
  });

  it('re-reads a rotated secret once after a 401', async () => {
    const secrets = secretsOf('token-revoked-0002-abcdefghijklmnop', TOKEN);
    const reader = createMastodonReplyReader({ secrets: secrets.source, baseUrl: fake.baseUrl });

    const page = await reader.repliesTo(alert);

    expect(page?.complete).toBe(true);
    expect(secrets.calls).toEqual([false, true]);
  });

  it('turns a 429 into RateLimitedError at the instance’s reset, and anything else into an Error without the token', async () => {
    const reset = Date.parse('2030-01-01T12:05:00.000Z');
    fake.answerNext(1, {
      status: 429,
      body: { error: MESSAGES.tooMany },
      headers: {
        'x-ratelimit-limit': '300',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '2030-01-01T12:05:00.000000Z',
      },
    });
    fake.answerNext(1, { status: 500, body: { error: `boom ${TOKEN}` } });
    const reader = createMastodonReplyReader({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl });

    const limited = await reader.repliesTo(alert).catch((e: unknown) => e);
    const failed = await reader.repliesTo(alert).catch((e: unknown) => e);

    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).resetAt).toBe(reset);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toBe('Mastodon 500 boom [redacted]');
  });
});

describe('plainText', () => {
  it('drops the leading mentions and markup, keeps links whole and decodes entities', () => {
    const html =
      '<p><span class="h-card"><a href="https://mastodon.example/@agency" class="u-url mention">@<span>agency</span></a></span> ' +
      'Photo: <a href="https://pics.example/a/very/long"><span class="invisible">https://</span><span class="ellipsis">pics.example/a/ve</span><span class="invisible">ry/long</span></a><br />caf&#233; &amp; more&#x21;</p><p>Thanks</p>';

    expect(plainText(html)).toBe('Photo: https://pics.example/a/very/long\ncafé & more!\n\nThanks');
  });
});
