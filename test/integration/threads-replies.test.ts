import { describe, expect, it } from 'vitest';
import { CREDENTIALS_REJECTED_MESSAGE } from '../../functions/adapters/providers/graph';
import { createThreadsReplyReader } from '../../functions/channels/threads/replies';
import { ProviderError } from '../../functions/ports';
import { FakeSecrets, FakeThreadsApi } from '../fakes/threads-api';
import { RecordingLogger } from '../helpers/fakes';
import { fakePerFile } from '../helpers/providers';

const TOKEN = 'THAArepliesTokenNeverInALog0123456789';
const USER = '25000000000000001';

let threads: FakeThreadsApi;
fakePerFile(
  () => FakeThreadsApi.start({ token: TOKEN, userId: USER }),
  (fake) => {
    threads = fake;
  },
);

function setup(maxPages?: number) {
  const logger = new RecordingLogger();
  const reader = createThreadsReplyReader({
    secrets: new FakeSecrets({ threads: { userId: USER, accessToken: TOKEN } }),
    baseUrl: threads.baseUrl,
    logger,
    maxPages,
  });
  return { reader, logger };
}

const signal = () => new AbortController().signal;

/** The agency's alert, its update (a reply to it), and residents' replies around it. */
function thread() {
  threads.now = () => new Date('2030-05-01T10:10:00Z');
  const alert = threads.ownPost('ALERT: missing child near the park', new Date('2030-05-01T10:00:00Z'));
  threads.residentReply(alert.id, 'I saw a child in a red coat by the fountain', 'resident.one');
  threads.ownPost('UPDATE: found safe', new Date('2030-05-01T10:05:00Z'), alert.id);
  threads.residentReply(alert.id, 'Heading north on Park Rd', 'resident.two');
  threads.residentReply(alert.id, 'Private profile here', '');
  return alert;
}

describe('Threads replies reader', () => {
  it("reads every page of residents' replies, oldest first, leaving out the agency's own", async () => {
    const alert = thread();
    threads.pageSize = 2;
    const { reader } = setup();

    const page = await reader.replies(alert.id, signal());

    expect(page.complete).toBe(true);
    expect(page.replies.map((r) => [r.author, r.text])).toEqual([
      ['@resident.one', 'I saw a child in a red coat by the fountain'],
      ['@resident.two', 'Heading north on Park Rd'],
      [undefined, 'Private profile here'],
    ]);
    expect(page.replies.every((r) => r.inReplyTo === alert.id && /^\d+$/.test(r.id))).toBe(true);
    expect(page.replies[0]!.at).toBe('2030-05-01T10:10:00.000Z');
    const reads = threads.requests.filter((r) => r.path === `${alert.id}/replies`);
    expect(reads).toHaveLength(2);
    expect(reads[0]!.query).toEqual({
      fields: 'id,text,username,timestamp,is_reply_owned_by_me',
      reverse: 'false',
    });
    expect(reads[1]!.query.after).toBeTruthy();
    expect(reads.every((r) => r.headers.authorization === `Bearer ${TOKEN}` && !r.url.includes(TOKEN))).toBe(
      true,
    );
  });

  it('goes on from where the last read stopped: only the replies written since', async () => {
    const alert = thread();
    const { reader } = setup();
    const first = await reader.replies(alert.id, signal());
    threads.residentReply(alert.id, 'Is the road open again?', 'resident.three');

    const next = await reader.replies(alert.id, signal(), first.after);

    expect(next.replies.map((r) => r.text)).toEqual(['Is the road open again?']);
    const again = await reader.replies(alert.id, signal(), next.after);
    expect(again.replies).toEqual([]);
  });

  it('stops after maxPages and says where to go on', async () => {
    const alert = thread();
    threads.pageSize = 1;
    const { reader } = setup(2);

    const first = await reader.replies(alert.id, signal());
    const rest = await reader.replies(alert.id, signal(), first.after);

    expect([first.complete, rest.complete]).toEqual([false, true]);
    expect(first.replies.map((r) => r.author)).toEqual(['@resident.one']);
    expect(rest.replies.map((r) => r.author)).toEqual(['@resident.two', undefined]);
    expect(threads.requests).toHaveLength(4);
  });

  it('a refused token is re-read once, then permanent and logged for the alarm; throttling is retryable', async () => {
    const alert = thread();
    const { reader, logger } = setup();
    threads.token = 'THAAsomeOtherToken';
    const refused = await reader.replies(alert.id, signal()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect((refused as ProviderError).kind).toBe('permanent');
    expect(logger.at('error')).toEqual([
      { level: 'error', message: CREDENTIALS_REJECTED_MESSAGE, extra: [{ channel: 'threads', code: 190 }] },
    ]);

    threads.token = TOKEN;
    threads.fail(
      { pathEndsWith: '/replies' },
      { status: 400, error: { message: 'User request limit reached', type: 'OAuthException', code: 17 } },
    );
    const throttled = await reader.replies(alert.id, signal()).catch((e: unknown) => e);
    expect((throttled as ProviderError).kind).toBe('retryable');
  });
});
