/**
 * The channel list (functions/channels/list.ts) is the one place a channel is registered: every channel in it must
 * reach the preview, the console and the stack. Each assertion is made per channel of the list, so a channel added
 * to the list and missed anywhere fails here by name, and one removed from a consumer fails the same way.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import { CHANNEL, CHANNEL_LIST, CHANNELS, channelsWhere } from '../../functions/channels/list';
import { UNKNOWN_OUTCOME_POLICY } from '../../functions/core/delivery';
import { SOCIAL_CHANNELS } from '../../functions/core/fanout';
import { SUBSCRIBER_CHANNELS } from '../../functions/core/model';
import { channelQueue } from '../../functions/ports';
import { ENV, queueUrlEnv } from '../../functions/shared/config';
import { DEFAULT_SECRETS_PREFIX, HeraldStack } from '../../lib/herald-stack';
import { buildConsole } from '../../web/build';
import { channelChoices } from '../../web/src/channels';
import { CHANNEL_NAMES } from '../../web/src/types';
import draftFixture from '../fixtures/alert-draft.json';
import { asList, type CfnResource, idOf, type Statement, text } from '../helpers/cfn';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let resources: Record<string, CfnResource>;

beforeAll(async () => {
  db = await startDynaliteStore();
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context });
  resources = Template.fromStack(new HeraldStack(app, 'Herald')).toJSON().Resources as Record<
    string,
    CfnResource
  >;
}, 120_000);
afterAll(async () => {
  await db?.close();
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const envOf = (id: string) =>
  ((resources[id]?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables ?? {}) as Record<string, unknown>;
/** The channel function: the one Herald function told it delivers `channel`. */
function functionOf(channel: string): string {
  const found = ofType('AWS::Lambda::Function').filter(([id]) => envOf(id)[ENV.channel] === channel);
  expect(found, `the ${channel} function`).toHaveLength(1);
  return found[0]![0];
}
/** The queue dispatch sends the channel's jobs to. */
function queueOf(channel: (typeof CHANNELS)[number]): string {
  const dispatch = ofType('AWS::Lambda::Function').filter(
    ([id]) => envOf(id).POWERTOOLS_SERVICE_NAME === 'herald-dispatch',
  );
  expect(dispatch).toHaveLength(1);
  return idOf(envOf(dispatch[0]![0])[queueUrlEnv(channelQueue(channel))]);
}
const alarmsOn = (dimension: string, metric: string) =>
  ofType('AWS::CloudWatch::Alarm')
    .map(([, a]) => a.Properties)
    .filter(
      (a) =>
        a.MetricName === metric &&
        ((a.Dimensions ?? []) as { Value: unknown }[]).some((d) => idOf(d.Value) === dimension),
    );
function secretReadsOf(fn: string): string[] {
  const roleId = idOf(resources[fn]!.Properties.Role);
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => idOf(r) === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => asList(s.Action).includes('secretsmanager:GetSecretValue'))
    .flatMap((s) => asList(s.Resource).map(text));
}
const createdSecrets = () =>
  ofType('Custom::AWS')
    .map(
      ([, r]) => JSON.parse(text(r.Properties.Create)) as { action: string; parameters: { Name?: string } },
    )
    .filter((call) => call.action === 'CreateSecret')
    .map((call) => call.parameters.Name);

describe('The channel list', () => {
  it('names each channel once, with a label, and is where the delivery policy and the audiences come from', () => {
    expect(new Set(CHANNELS).size).toBe(CHANNEL_LIST.length);
    for (const c of CHANNEL_LIST) {
      expect(c.label, c.name).not.toBe('');
      expect(CHANNEL[c.name]).toBe(c);
      expect(UNKNOWN_OUTCOME_POLICY[c.name], c.name).toBe(c.unknownOutcome);
      expect(SOCIAL_CHANNELS.has(c.name), c.name).toBe(c.audience === 'social');
    }
    // Subscriber channels keep their literal list (their addresses have types of their own): it must match.
    expect([...SUBSCRIBER_CHANNELS]).toEqual(channelsWhere((c) => c.audience === 'subscriber'));
  });
});

describe('Every channel in the list reaches the preview', () => {
  it.each(CHANNELS)('answers a preview naming %s with its rendering, within its budget', async (channel) => {
    // Prepare
    const deps: ApiDeps = {
      ...(await residentsDeps(db)),
      store: db.store,
      queue: new RecordingQueue(),
      config: testConfig(),
      clock: new ManualClock('2030-03-04T10:00:00.000Z'),
      newId: newUlid,
      logger: new RecordingLogger(),
    };
    const body = { ...structuredClone(draftFixture), channels: [channel] };

    // Act
    const res = await createRouter(deps)(
      apiEvent({
        method: 'POST',
        path: '/v1/alerts/preview',
        body,
        claims: claimsFor('officer-1', ['officer']),
      }),
    );

    // Assess
    expect(res.statusCode).toBe(200);
    const entry = JSON.parse(res.body ?? '{}').channels[channel];
    expect(entry, channel).toBeDefined();
    expect(entry.language).toBe('en');
    const budget = CHANNEL[channel].budget;
    if (budget) {
      expect(entry.fits, channel).toBe(true);
      expect(entry.limit ?? entry.maxSegments, channel).toBe(budget.limit);
    }
  });
});

describe('Every channel in the list reaches the console', () => {
  it('offers each channel in the compose form, under its label', () => {
    expect(channelChoices()).toEqual(CHANNEL_LIST.map((c) => ({ value: c.name, label: c.label })));
    for (const c of CHANNEL_LIST) expect(CHANNEL_NAMES[c.name]).toBe(c.label);
  });

  it('ships every label in the built console', async () => {
    const { files } = await buildConsole();
    // The console is split into chunks (web/build.ts): the labels may sit in any of its scripts.
    const script = files
      .filter((f) => f.path.endsWith('.js'))
      .map((f) => new TextDecoder().decode(f.body))
      .join('\n');
    for (const c of CHANNEL_LIST) expect(script, c.name).toContain(JSON.stringify(c.label));
  });
});

describe('Every channel in the list gets its queue, dead-letter queue, function, secret and alarms', () => {
  it.each(CHANNELS)('%s', (channel) => {
    const definition = CHANNEL[channel];
    const fn = functionOf(channel);
    const queue = queueOf(channel);

    // The function, built from the channel's own entry, consumes the channel's queue.
    expect(envOf(fn).POWERTOOLS_SERVICE_NAME).toBe(`herald-channel-${channel}`);
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => idOf(m.Properties.EventSourceArn) === queue,
    );
    expect(mappings.map(([, m]) => idOf(m.Properties.FunctionName))).toEqual([fn]);
    if (channel !== 'sms')
      expect(mappings[0]![1].Properties.ScalingConfig).toEqual({
        MaximumConcurrency: definition.concurrency,
      });

    // Its dead-letter queue, alarmed as soon as anything lands there.
    const dlq = idOf(
      (resources[queue]!.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
    );
    expect(resources[dlq]!.Type).toBe('AWS::SQS::Queue');
    expect(alarmsOn(dlq, 'ApproximateNumberOfMessagesVisible')).toHaveLength(1);

    // The queue's own alarm, and the function's.
    expect(alarmsOn(queue, 'ApproximateAgeOfOldestMessage')).toHaveLength(1);
    expect(alarmsOn(fn, 'Errors')).toHaveLength(1);
    expect(alarmsOn(fn, 'Throttles')).toHaveLength(1);
    expect(
      ofType('AWS::CloudWatch::Alarm').filter(
        ([, a]) => a.Properties.MetricName === `ProviderCredentialsRejected-${channel}`,
      ),
    ).toHaveLength(definition.alarmOnRejectedCredentials ? 1 : 0);

    // Its secret, readable by its function alone; none where the function's role is the credential.
    const secretName = `${DEFAULT_SECRETS_PREFIX}${channel}`;
    if (definition.credentials === 'secret') {
      expect(createdSecrets()).toContain(secretName);
      expect(secretReadsOf(fn)).toEqual([
        `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secretName}-??????`,
      ]);
    } else {
      expect(createdSecrets()).not.toContain(secretName);
      expect(secretReadsOf(fn)).toEqual([]);
    }
  });
});
