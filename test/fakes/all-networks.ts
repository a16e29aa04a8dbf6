/**
 * Every network's fake at once, with the credentials and origins that point Herald's real clients at them: what the
 * all-ten-channels end-to-end test and its bench (bench/all-channels.ts) both run against. SNS and SES are reached
 * through the AWS SDK's endpoint variables, which it reads from the process's environment: `start` sets them, and
 * `close` puts back what was there.
 */
import type { ProviderBaseUrls } from '../../functions/channels/provider-options';
import { type FakeMessaging, realMessagingEnv, startFakeMessaging } from './aws-messaging';
import { BlueskyApiFake } from './bluesky-api';
import { FakeGraphApi } from './graph-api';
import { MastodonApiFake } from './mastodon-api';
import { CHANNEL_USERNAME, TelegramApiFake } from './telegram-api';
import { FakeThreadsApi } from './threads-api';
import { XApiFake } from './x-api';

const X_CREDENTIALS = {
  appKey: 'app-key',
  appSecret: 'app-secret',
  accessToken: 'access-token',
  accessSecret: 'access-secret',
};
const MASTODON_TOKEN = 'mastodon-token-0001-abcdefghijklmnop';
const BLUESKY = {
  handle: 'agency.bsky.social',
  did: 'did:plc:agencyaaaaaaaaaaaaaaaaaa',
  appPassword: 'abcd-efgh-ijkl-mnop',
};
const THREADS = { token: 'THAAthreadsTokenForTheE2e0123456789', userId: '25000000000000001' };
const TELEGRAM_TOKEN = '7000000001:AAHcurrentTokenForTheAgencyBot0000001';
const SDK_ENDPOINTS = ['AWS_ENDPOINT_URL_SNS', 'AWS_ENDPOINT_URL_SESV2'] as const;

export interface NetworkFakes {
  x: XApiFake;
  graph: FakeGraphApi;
  mastodon: MastodonApiFake;
  bluesky: BlueskyApiFake;
  threads: FakeThreadsApi;
  telegram: TelegramApiFake;
  messaging: FakeMessaging;
  /** Herald's environment: every channel's credentials (HERALD_SECRET_*) and the SNS and SES endpoints. */
  env: Record<string, string>;
  providerBaseUrls: ProviderBaseUrls;
  close(): Promise<void>;
}

export async function startNetworkFakes(): Promise<NetworkFakes> {
  const x = await XApiFake.start(X_CREDENTIALS);
  const graph = await FakeGraphApi.start();
  graph.pollsUntilFinished = 1;
  const mastodon = await MastodonApiFake.start(MASTODON_TOKEN);
  const bluesky = await BlueskyApiFake.start({ ...BLUESKY });
  const threads = await FakeThreadsApi.start(THREADS);
  const telegram = await TelegramApiFake.start(TELEGRAM_TOKEN);
  const messaging = await startFakeMessaging();
  const aws = realMessagingEnv(messaging);
  const saved = SDK_ENDPOINTS.map((name) => [name, process.env[name]] as const);
  for (const name of SDK_ENDPOINTS) process.env[name] = aws[name];
  return {
    x,
    graph,
    mastodon,
    bluesky,
    threads,
    telegram,
    messaging,
    env: {
      ...aws,
      HERALD_SECRET_X: JSON.stringify(X_CREDENTIALS),
      HERALD_SECRET_FACEBOOK: JSON.stringify({ pageId: graph.pageId, pageAccessToken: graph.token }),
      HERALD_SECRET_INSTAGRAM: JSON.stringify({ igUserId: graph.igUserId, accessToken: graph.token }),
      // The client posts to the fake (its base URL) but names the instance in its ids by this origin.
      HERALD_SECRET_MASTODON: JSON.stringify({
        instanceUrl: 'https://police.social',
        accessToken: MASTODON_TOKEN,
      }),
      HERALD_SECRET_BLUESKY: JSON.stringify({ identifier: BLUESKY.handle, appPassword: BLUESKY.appPassword }),
      HERALD_SECRET_THREADS: JSON.stringify({ userId: THREADS.userId, accessToken: THREADS.token }),
      HERALD_SECRET_TELEGRAM: JSON.stringify({ botToken: TELEGRAM_TOKEN, chatId: `@${CHANNEL_USERNAME}` }),
      // Instagram and Threads poll their containers; give each call room.
      HERALD_PROVIDER_TIMEOUT_MS: '10000',
    },
    providerBaseUrls: {
      x: x.baseUrl,
      graph: graph.baseUrl,
      mastodon: mastodon.baseUrl,
      bluesky: bluesky.baseUrl,
      threads: threads.baseUrl,
      telegram: telegram.baseUrl,
    },
    async close() {
      for (const [name, value] of saved)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      await Promise.all([
        x.close(),
        graph.close(),
        mastodon.close(),
        bluesky.close(),
        threads.close(),
        telegram.close(),
        messaging.close(),
      ]);
    },
  };
}
