/**
 * The EventBridge Scheduler adapter of PublishTimer (functions/adapters/scheduler/eventbridge-timer.ts) with the real
 * SDK client, its serializer, signer and standard retries, against a fake of Scheduler's REST-JSON API
 * (test/fakes/eventbridge-scheduler.ts): what a schedule says, re-arming, disarming, and what happens when Scheduler
 * throttles, fails or refuses.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EventBridgePublishTimer,
  MIN_NOTICE_SECONDS,
  PublishTimeTooSoon,
  SCHEDULE_RETRY_POLICY,
  scheduleNameFor,
} from '../../functions/adapters/scheduler/eventbridge-timer';
import type { PublishTarget } from '../../functions/ports';
import { DispatchMessage } from '../../schemas/messages';
import { type FakeScheduler, startFakeScheduler } from '../fakes/eventbridge-scheduler';

const GROUP = 'herald-publish';
const NOW = new Date('2030-05-01T08:00:00.000Z');
const credentials = { accessKeyId: 'AKIDLOCALFAKE', secretAccessKey: 'local-fake-secret' };

let fake: FakeScheduler;
let client: SchedulerClient;
let timer: EventBridgePublishTimer;
let arns: { queue: string; role: string; deadLetters: string };

beforeAll(async () => {
  fake = await startFakeScheduler();
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${fake.region}:${fake.account}:${resource}`;
  arns = {
    queue: arn('sqs', 'herald-dispatch'),
    role: `arn:aws:iam::${fake.account}:role/herald-scheduler`,
    deadLetters: arn('sqs', 'herald-schedule-dead-letters'),
  };
  client = new SchedulerClient({ region: fake.region, endpoint: fake.url, credentials });
  timer = new EventBridgePublishTimer({
    client,
    groupName: GROUP,
    dispatchQueueArn: arns.queue,
    roleArn: arns.role,
    deadLetterQueueArn: arns.deadLetters,
    clock: { now: () => NOW },
  });
});

afterEach(() => fake.reset());

afterAll(async () => {
  client.destroy();
  await fake.close();
});

const target = (at: string, alertId = '01J0SCHEDULEDALERT00000000', version = 2): PublishTarget => ({
  alertId,
  version,
  at,
});
const stored = (t: Pick<PublishTarget, 'alertId' | 'version'>) =>
  fake.schedules.get(`${GROUP}/${scheduleNameFor(t)}`);
const calls = () => fake.requests.map((r) => r.operation);

describe('arm', () => {
  it('creates a one-time schedule in the group that puts the dispatch message on the dispatch queue, a minute early', async () => {
    const t = target('2030-05-01T09:00:30.500Z');
    await timer.arm(t);

    expect(calls()).toEqual(['CreateSchedule']);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', name: '01J0SCHEDULEDALERT00000000-v2', signed: true });
    const { ClientToken, ...body } = request!.body!;
    // The SDK fills in an idempotency token, the same on each of its retries of one call.
    expect(ClientToken).toEqual(expect.any(String));
    expect(body).toEqual({
      GroupName: GROUP,
      // 09:00:30 falls in the minute 09:00; Scheduler fires a schedule for 08:59 within that minute, before it.
      ScheduleExpression: 'at(2030-05-01T08:59:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: arns.queue,
        RoleArn: arns.role,
        Input: '{"alertId":"01J0SCHEDULEDALERT00000000","version":2}',
        DeadLetterConfig: { Arn: arns.deadLetters },
        RetryPolicy: SCHEDULE_RETRY_POLICY,
      },
    });
    // The message is exactly what the dispatch queue's consumer accepts.
    const input = (body.Target as { Input: string }).Input;
    expect(DispatchMessage.parse(JSON.parse(input))).toEqual({ alertId: t.alertId, version: 2 });
    expect(stored(t)?.Arn).toBe(
      `arn:aws:scheduler:${fake.region}:${fake.account}:schedule/${GROUP}/01J0SCHEDULEDALERT00000000-v2`,
    );
  });

  it.each([
    ['on a whole minute', '2030-05-01T09:00:00.000Z', 'at(2030-05-01T08:59:00)'],
    ['in the last second of a minute', '2030-05-01T09:00:59.999Z', 'at(2030-05-01T08:59:00)'],
    ['across midnight and a month end', '2030-06-01T00:00:10.000Z', 'at(2030-05-31T23:59:00)'],
    ['given with an offset', '2030-05-01T11:30:00+02:00', 'at(2030-05-01T09:29:00)'],
  ])('wakes a version due %s in the minute before its own', async (_, at, expression) => {
    await timer.arm(target(at));
    expect(fake.requests[0]!.body!.ScheduleExpression).toBe(expression);
  });

  it('moves an armed version to its new time with UpdateSchedule, keeping one schedule', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z'));
    await timer.arm(target('2030-05-01T17:45:00Z'));

    expect(calls()).toEqual(['CreateSchedule', 'CreateSchedule', 'UpdateSchedule']);
    expect(fake.requests[2]).toMatchObject({ method: 'PUT', name: '01J0SCHEDULEDALERT00000000-v2' });
    // An update replaces the whole schedule: it carries everything the create did, at the new time.
    const { ClientToken: _c, ...created } = fake.requests[0]!.body!;
    const { ClientToken: _u, ...updated } = fake.requests[2]!.body!;
    expect(updated).toEqual({ ...created, ScheduleExpression: 'at(2030-05-01T17:44:00)' });
    expect(fake.schedules.size).toBe(1);
    expect(stored(target(''))?.body.ScheduleExpression).toBe('at(2030-05-01T17:44:00)');
  });

  it('arms the same time twice as one schedule', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z'));
    await timer.arm(target('2030-05-01T09:00:00Z'));
    expect(fake.schedules.size).toBe(1);
  });

  it('creates the schedule afresh when it fired and deleted itself between the create and the update', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z'));
    fake.beforeNext('UpdateSchedule', () => fake.schedules.clear());
    await timer.arm(target('2030-05-01T12:00:00Z'));

    expect(calls()).toEqual(['CreateSchedule', 'CreateSchedule', 'UpdateSchedule', 'CreateSchedule']);
    expect(stored(target(''))?.body.ScheduleExpression).toBe('at(2030-05-01T11:59:00)');
  });

  it('keeps the versions of one alert apart', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z', 'A1', 1));
    await timer.arm(target('2030-05-01T12:00:00Z', 'A1', 2));
    expect([...fake.schedules.values()].map((s) => s.Name).sort()).toEqual(['A1-v1', 'A1-v2']);
  });

  it('refuses a time already past, and sends nothing', async () => {
    const error = await timer.arm(target('2030-05-01T07:59:59Z')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishTimeTooSoon);
    expect((error as Error).name).toBe('PublishTimeTooSoon');
    expect((error as Error).message).toMatch(/is past.*dispatch it now/);
    expect(fake.requests).toEqual([]);
  });

  it(`refuses a time whose wake-up would be under ${MIN_NOTICE_SECONDS} s away, and arms the first one that is not`, async () => {
    // Due 08:01:59: the schedule would fire at 08:00:00, now. Due 08:02:00: at 08:01:00, a minute from now.
    const early = await timer.arm(target('2030-05-01T08:01:59Z')).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(PublishTimeTooSoon);
    expect((early as Error).message).toMatch(/is too soon/);
    expect(fake.requests).toEqual([]);

    await timer.arm(target('2030-05-01T08:02:00Z'));
    expect(fake.requests[0]!.body!.ScheduleExpression).toBe('at(2030-05-01T08:01:00)');
  });

  it('refuses what is not a time, and sends nothing', async () => {
    await expect(timer.arm(target('next Tuesday'))).rejects.toThrow(/"next Tuesday" is not a time/);
    expect(fake.requests).toEqual([]);
  });

  it('retries a throttled call (the SDK) and arms', async () => {
    fake.failNext('CreateSchedule', 'ThrottlingException', 2);
    await timer.arm(target('2030-05-01T09:00:00Z'));
    expect(calls()).toEqual(['CreateSchedule', 'CreateSchedule', 'CreateSchedule']);
    expect(fake.schedules.size).toBe(1);
  });

  it("surfaces a 500 that outlasts the SDK's retries, having tried as often as the client allows", async () => {
    fake.failNext('CreateSchedule', 'InternalServerException', 10);
    const error = await timer.arm(target('2030-05-01T09:00:00Z')).catch((e: unknown) => e);
    expect((error as Error).name).toBe('InternalServerException');
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(500);
    expect(fake.requests).toHaveLength(await client.config.maxAttempts());
    expect(fake.schedules.size).toBe(0);
  });

  it('surfaces a validation error at once, without retrying it', async () => {
    fake.failNext('CreateSchedule', 'ValidationException');
    const error = await timer.arm(target('2030-05-01T09:00:00Z')).catch((e: unknown) => e);
    expect((error as Error).name).toBe('ValidationException');
    expect(calls()).toEqual(['CreateSchedule']);
  });

  it('surfaces a failed update (armed before, then throttled throughout)', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z'));
    fake.failNext('UpdateSchedule', 'ThrottlingException', 10);
    const error = await timer.arm(target('2030-05-01T10:00:00Z')).catch((e: unknown) => e);
    expect((error as Error).name).toBe('ThrottlingException');
    expect(stored(target(''))?.body.ScheduleExpression).toBe('at(2030-05-01T08:59:00)');
  });
});

describe('disarm', () => {
  it("deletes the version's schedule from the group", async () => {
    const t = target('2030-05-01T09:00:00Z');
    await timer.arm(t);
    await timer.disarm({ alertId: t.alertId, version: t.version });

    expect(fake.requests[1]).toMatchObject({
      operation: 'DeleteSchedule',
      method: 'DELETE',
      name: '01J0SCHEDULEDALERT00000000-v2',
      query: { groupName: GROUP },
    });
    expect(fake.schedules.size).toBe(0);
  });

  it('leaves the other versions armed', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z', 'A1', 1));
    await timer.arm(target('2030-05-01T12:00:00Z', 'A1', 2));
    await timer.disarm({ alertId: 'A1', version: 1 });
    expect([...fake.schedules.values()].map((s) => s.Name)).toEqual(['A1-v2']);
  });

  it('is fine with a schedule that fired, was disarmed before, or never existed (404)', async () => {
    await expect(timer.disarm({ alertId: 'NEVER-ARMED', version: 1 })).resolves.toBeUndefined();
    expect(calls()).toEqual(['DeleteSchedule']);
  });

  it('retries a throttled delete and surfaces a 500 that outlasts the retries', async () => {
    await timer.arm(target('2030-05-01T09:00:00Z'));
    fake.failNext('DeleteSchedule', 'ThrottlingException', 1);
    await timer.disarm({ alertId: '01J0SCHEDULEDALERT00000000', version: 2 });
    expect(fake.schedules.size).toBe(0);

    await timer.arm(target('2030-05-01T09:00:00Z'));
    fake.failNext('DeleteSchedule', 'InternalServerException', 10);
    await expect(timer.disarm({ alertId: '01J0SCHEDULEDALERT00000000', version: 2 })).rejects.toMatchObject({
      name: 'InternalServerException',
    });
    expect(fake.schedules.size).toBe(1);
  });
});

describe('schedule names', () => {
  const VALID = /^[0-9a-zA-Z\-_.]{1,64}$/;
  const long = 'CAD-2030-05-01-'.padEnd(200, 'x');

  it('is <alertId>-v<version> for the ids Herald makes', () => {
    expect(scheduleNameFor({ alertId: '01J0SCHEDULEDALERT00000000', version: 12 })).toBe(
      '01J0SCHEDULEDALERT00000000-v12',
    );
  });

  it.each([
    ['a long id', long],
    ['an id of exactly the room left', 'y'.repeat(61)],
    ['an id with characters Scheduler refuses', 'urn:oid:2.49.0.1/alert #7 ñ'],
    ['a long id with refused characters', `${long}/ü`],
  ])('fits Scheduler for %s: at most 64 characters of [0-9a-zA-Z-_.], the same every time', (_, alertId) => {
    const name = scheduleNameFor({ alertId, version: 2_147_483_647 });
    expect(name).toMatch(VALID);
    expect(name).toMatch(/-v2147483647$/);
    expect(scheduleNameFor({ alertId, version: 2_147_483_647 })).toBe(name);
  });

  it('keeps apart ids that share a long prefix, or differ only in refused characters', () => {
    const names = [`${long}a`, `${long}b`, 'alert/1', 'alert:1', 'alert_1'].map((alertId) =>
      scheduleNameFor({ alertId, version: 1 }),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('arms and disarms a version of such an id through Scheduler', async () => {
    const t = target('2030-05-01T09:00:00Z', `${long}/ü`, 3);
    await timer.arm(t);
    expect(fake.schedules.size).toBe(1);
    const { Input } = stored(t)!.body.Target as { Input: string };
    expect(JSON.parse(Input)).toEqual({ alertId: t.alertId, version: 3 });
    await timer.disarm({ alertId: t.alertId, version: 3 });
    expect(fake.schedules.size).toBe(0);
  });
});

describe('endpoint', () => {
  it('reaches the fake through AWS_ENDPOINT_URL_SCHEDULER, as a client built with no endpoint would', async () => {
    const before = process.env.AWS_ENDPOINT_URL_SCHEDULER;
    process.env.AWS_ENDPOINT_URL_SCHEDULER = fake.url;
    const fromEnv = new SchedulerClient({ region: fake.region, credentials });
    try {
      await new EventBridgePublishTimer({
        client: fromEnv,
        groupName: GROUP,
        dispatchQueueArn: arns.queue,
        roleArn: arns.role,
        deadLetterQueueArn: arns.deadLetters,
        clock: { now: () => NOW },
      }).arm(target('2030-05-01T09:00:00Z'));
    } finally {
      fromEnv.destroy();
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_SCHEDULER;
      else process.env.AWS_ENDPOINT_URL_SCHEDULER = before;
    }
    expect(calls()).toEqual(['CreateSchedule']);
  });
});
