/**
 * PublishTimer on Amazon EventBridge Scheduler: one one-time schedule per scheduled version, in Herald's own schedule
 * group, that puts the version's dispatch message (`{ alertId, version }`) on the dispatch queue just before its
 * publishAt. The dispatcher releases a version whose time has come and holds back one that is early, so the
 * schedule only has to wake Herald up; the minute sweeper releases whatever is due in any case.
 *
 * Why a minute early: Scheduler invokes its targets with 60-second precision (a schedule for 10:00 fires between
 * 10:00:00 and 10:00:59), so a schedule for the version's own time could be up to a minute late. Aimed at the whole
 * minute before that time, it fires 1 to 119 seconds early, always before it; the dispatcher then re-queues the message
 * with an SQS delay of the seconds left, and the version goes out on its second.
 *
 * Each schedule deletes itself once it has fired (ActionAfterCompletion DELETE), so the group holds only what is still
 * waiting. Throttling and 5xx answers are retried by the SDK (its standard retry strategy); an error that outlasts
 * those reaches the caller, which logs it: the sweeper releases the version at its time all the same.
 */
import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { DispatchMessage } from '../../../schemas/messages';
import { type Clock, type PublishTarget, type PublishTimer, systemClock } from '../../ports';

/** Scheduler's precision: a schedule for a minute fires at some second of that minute. */
export const SCHEDULER_PRECISION_SECONDS = 60;

/**
 * The least time between now and a schedule's wake-up for arm to create one. A schedule created for an instant that
 * has passed by the time Scheduler evaluates it may be refused or never fire; a version that close to its time is
 * dispatched at once by the caller instead, and the dispatcher holds it (an SQS delay) until it is due.
 */
export const MIN_NOTICE_SECONDS = 60;

/**
 * What Scheduler does when the queue refuses the message (a throttle, an outage, a permission gone wrong): retries
 * with back-off for ten minutes, then puts it on the schedules' dead-letter queue, which alarms. By then the sweeper,
 * every minute, has long released the version; what is left is to tell a person that schedules cannot reach the queue.
 */
export const SCHEDULE_RETRY_POLICY = { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 10 } as const;

/** Scheduler's limits on a schedule name. */
const NAME_MAX_LENGTH = 64;
const NAME_CHARACTERS = /^[0-9a-zA-Z_.-]+$/;
/** Hex characters of the id's SHA-256 kept in a name that had to be shortened or cleaned: 64 bits. */
const DIGEST_LENGTH = 16;

/**
 * The one schedule name of a version, so arming twice finds the first schedule and disarming needs no lookup:
 * `<alertId>-v<version>`. An id too long for Scheduler's 64 characters, or with a character it refuses, keeps a
 * readable prefix (refused characters as `_`) and gains a digest of the whole id, so two such ids never share a name.
 */
export function scheduleNameFor(target: Pick<PublishTarget, 'alertId' | 'version'>): string {
  const suffix = `-v${target.version}`;
  const plain = `${target.alertId}${suffix}`;
  if (NAME_CHARACTERS.test(target.alertId) && plain.length <= NAME_MAX_LENGTH) return plain;
  const digest = createHash('sha256').update(target.alertId).digest('hex').slice(0, DIGEST_LENGTH);
  const room = NAME_MAX_LENGTH - suffix.length - DIGEST_LENGTH - 1;
  const readable = target.alertId.replace(/[^0-9a-zA-Z_.-]/g, '_').slice(0, room);
  return `${readable}-${digest}${suffix}`;
}

/** When the schedule of a version due at `at` fires: the whole minute before the minute `at` falls in. */
export function wakeUpFor(at: Date): Date {
  const minute = SCHEDULER_PRECISION_SECONDS * 1000;
  return new Date(Math.floor(at.getTime() / minute) * minute - minute);
}

/** Scheduler's one-time expression for an instant, evaluated in UTC (ScheduleExpressionTimezone). */
export const atExpression = (instant: Date): string => `at(${instant.toISOString().slice(0, 19)})`;

/**
 * arm refused: the version is due too soon for a schedule (or already). The caller dispatches it at once instead;
 * the dispatcher releases it if it is due and holds it until its time if not. `name` is stable, so a caller that
 * knows only the port can tell this from a failure to reach Scheduler.
 */
export class PublishTimeTooSoon extends Error {
  override readonly name = 'PublishTimeTooSoon';

  constructor(
    readonly target: PublishTarget,
    readonly wakeUp: Date,
    readonly now: Date,
  ) {
    const due = new Date(target.at).getTime() <= now.getTime() ? 'is past' : 'is too soon';
    super(
      `version ${target.version} of alert ${target.alertId} is due at ${target.at}, which ${due} for a schedule ` +
        `(it would fire at ${wakeUp.toISOString()}, less than ${MIN_NOTICE_SECONDS} s after ${now.toISOString()}): ` +
        'dispatch it now; the dispatcher holds a version that is early until its time',
    );
  }
}

export interface EventBridgePublishTimerOptions {
  client: SchedulerClient;
  /** Herald's schedule group: its schedules, and only those, may use the role below (the role's trust policy). */
  groupName: string;
  /** Where a schedule puts the version's dispatch message. */
  dispatchQueueArn: string;
  /** The role Scheduler assumes to send that message (and a dead letter); the caller may pass it (iam:PassRole). */
  roleArn: string;
  /** Where Scheduler puts a message it could not deliver after its retries. */
  deadLetterQueueArn: string;
  clock?: Clock;
}

const isError = (error: unknown, name: string): boolean => error instanceof Error && error.name === name;

export class EventBridgePublishTimer implements PublishTimer {
  private readonly clock: Clock;

  constructor(private readonly options: EventBridgePublishTimerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async arm(target: PublishTarget): Promise<void> {
    const at = new Date(target.at);
    if (Number.isNaN(at.getTime()))
      throw new Error(`version ${target.version} of alert ${target.alertId}: "${target.at}" is not a time`);
    const wakeUp = wakeUpFor(at);
    const now = this.clock.now();
    if (wakeUp.getTime() - now.getTime() < MIN_NOTICE_SECONDS * 1000)
      throw new PublishTimeTooSoon(target, wakeUp, now);

    // UpdateSchedule replaces the whole schedule (what it omits returns to its default), so both calls get it all.
    const schedule = this.scheduleFor(target, wakeUp);
    // Created, or already there (armed before, maybe for another time): then moved to this time. If it fired and
    // deleted itself between the two calls, it is created afresh; a second such race is not a race but a fault.
    for (let round = 1; ; round++) {
      try {
        await this.options.client.send(new CreateScheduleCommand(schedule));
        return;
      } catch (error) {
        if (!isError(error, 'ConflictException')) throw error;
      }
      try {
        await this.options.client.send(new UpdateScheduleCommand(schedule));
        return;
      } catch (error) {
        if (!isError(error, 'ResourceNotFoundException') || round >= 2) throw error;
      }
    }
  }

  async disarm(target: Omit<PublishTarget, 'at'>): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteScheduleCommand({ Name: scheduleNameFor(target), GroupName: this.options.groupName }),
      );
    } catch (error) {
      // Fired (and deleted itself), disarmed before, or never armed: nothing waits either way.
      if (!isError(error, 'ResourceNotFoundException')) throw error;
    }
  }

  private scheduleFor(target: PublishTarget, wakeUp: Date): CreateScheduleCommandInput {
    // Exactly what the dispatch queue's consumer parses, checked here so a schedule can never carry anything else.
    const message = DispatchMessage.parse({ alertId: target.alertId, version: target.version });
    return {
      Name: scheduleNameFor(target),
      GroupName: this.options.groupName,
      ScheduleExpression: atExpression(wakeUp),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: this.options.dispatchQueueArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(message),
        DeadLetterConfig: { Arn: this.options.deadLetterQueueArn },
        RetryPolicy: { ...SCHEDULE_RETRY_POLICY },
      },
    };
  }
}
