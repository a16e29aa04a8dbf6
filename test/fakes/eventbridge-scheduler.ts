/**
 * A local stand-in for Amazon EventBridge Scheduler's schedule API, speaking its REST-JSON wire format so the real
 * `@aws-sdk/client-scheduler` runs unchanged against it (point the client's `endpoint` here, or set
 * AWS_ENDPOINT_URL_SCHEDULER):
 * - `POST /schedules/{Name}` CreateSchedule, `PUT /schedules/{Name}` UpdateSchedule (the group in the body's
 *   `GroupName`), `GET` and `DELETE /schedules/{Name}?groupName=…` (the group in the query), `default` when omitted;
 * - errors as the service answers them: the status, the `x-amzn-ErrorType` header naming the exception, and a JSON
 *   body with its `Message` — ConflictException 409 (the name is taken), ResourceNotFoundException 404,
 *   ValidationException 400 (a field missing or out of its pattern), and on request ThrottlingException 429 or
 *   InternalServerException 500.
 * It keeps the schedules it holds and every request it was sent. It never fires a schedule: a test reads the
 * schedule's target to see what would be sent, and when.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SchedulerOperation = 'CreateSchedule' | 'UpdateSchedule' | 'GetSchedule' | 'DeleteSchedule';

/** A schedule as the request body carried it (the group resolved), and its ARN. */
export interface StoredSchedule {
  Name: string;
  GroupName: string;
  Arn: string;
  body: Record<string, unknown>;
}

export interface SchedulerRequest {
  operation: SchedulerOperation;
  method: string;
  name: string;
  /** The query string's parameters (groupName, clientToken for DeleteSchedule). */
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** The SigV4 `authorization` header: the client signed what it sent. */
  signed: boolean;
}

export type SchedulerErrorType =
  | 'ConflictException'
  | 'ResourceNotFoundException'
  | 'ValidationException'
  | 'ThrottlingException'
  | 'InternalServerException'
  | 'ServiceQuotaExceededException';

const STATUS: Record<SchedulerErrorType, number> = {
  ConflictException: 409,
  ResourceNotFoundException: 404,
  ValidationException: 400,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceQuotaExceededException: 402,
};

export interface FakeScheduler {
  url: string;
  region: string;
  account: string;
  requests: SchedulerRequest[];
  /** Schedules by `<group>/<name>`. */
  schedules: Map<string, StoredSchedule>;
  /** The next `times` calls of `operation` answer this error instead of doing anything. */
  failNext(operation: SchedulerOperation, error: SchedulerErrorType, times?: number): void;
  /** Runs just before the next call of `operation` is handled (to change the state under a client mid-way). */
  beforeNext(operation: SchedulerOperation, act: () => void): void;
  /** Forgets every schedule, request, injected error and pending hook. */
  reset(): void;
  close(): Promise<void>;
}

/** Scheduler's patterns for what Herald sends (API reference, CreateSchedule). */
const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const AT = /^at\(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\)$/;
const RATE_OR_CRON = /^(rate|cron)\(.+\)$/;
const ARN = /^arn:aws(-[a-z]+)?:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/;

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

class SchedulerError extends Error {
  constructor(
    readonly type: SchedulerErrorType,
    message: string,
  ) {
    super(message);
  }
}

function reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-amzn-requestid', randomUUID());
  if (errorType) res.setHeader('x-amzn-ErrorType', errorType);
  res.end(JSON.stringify(body));
}

/** What CreateSchedule and UpdateSchedule both require, checked as the service checks it. */
function validate(name: string, body: Record<string, unknown>): void {
  const invalid = (message: string) => new SchedulerError('ValidationException', message);
  if (!NAME.test(name))
    throw invalid(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint`);
  const expression = body.ScheduleExpression;
  if (typeof expression !== 'string' || !(AT.test(expression) || RATE_OR_CRON.test(expression)))
    throw invalid(`Invalid Schedule Expression ${String(expression)}.`);
  const window = body.FlexibleTimeWindow as { Mode?: unknown; MaximumWindowInMinutes?: unknown } | undefined;
  if (window?.Mode !== 'OFF' && window?.Mode !== 'FLEXIBLE')
    throw invalid('FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.');
  if (window.Mode === 'FLEXIBLE' && typeof window.MaximumWindowInMinutes !== 'number')
    throw invalid('MaximumWindowInMinutes is required when Mode is FLEXIBLE.');
  const target = body.Target as Record<string, unknown> | undefined;
  if (!target || typeof target.Arn !== 'string' || !ARN.test(target.Arn))
    throw invalid('Target.Arn must be an ARN.');
  if (typeof target.RoleArn !== 'string' || !ARN.test(target.RoleArn))
    throw invalid('Target.RoleArn must be an ARN.');
  const dlq = target.DeadLetterConfig as { Arn?: unknown } | undefined;
  if (dlq && (typeof dlq.Arn !== 'string' || !ARN.test(dlq.Arn)))
    throw invalid('Target.DeadLetterConfig.Arn must be an SQS queue ARN.');
  const retry = target.RetryPolicy as { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
  if (
    retry?.MaximumEventAgeInSeconds !== undefined &&
    !(retry.MaximumEventAgeInSeconds >= 60 && retry.MaximumEventAgeInSeconds <= 86_400)
  )
    throw invalid('RetryPolicy.MaximumEventAgeInSeconds must be from 60 to 86400.');
  if (
    retry?.MaximumRetryAttempts !== undefined &&
    !(retry.MaximumRetryAttempts >= 0 && retry.MaximumRetryAttempts <= 185)
  )
    throw invalid('RetryPolicy.MaximumRetryAttempts must be from 0 to 185.');
  const after = body.ActionAfterCompletion;
  if (after !== undefined && after !== 'NONE' && after !== 'DELETE')
    throw invalid('ActionAfterCompletion must be NONE or DELETE.');
}

export async function startFakeScheduler(
  options: { region?: string; account?: string } = {},
): Promise<FakeScheduler> {
  const region = options.region ?? 'eu-west-1';
  const account = options.account ?? '000000000000';
  const schedules = new Map<string, StoredSchedule>();
  const requests: SchedulerRequest[] = [];
  const faults: { operation: SchedulerOperation; error: SchedulerErrorType; times: number }[] = [];
  const hooks: { operation: SchedulerOperation; act: () => void }[] = [];
  const arnOf = (group: string, name: string) =>
    `arn:aws:scheduler:${region}:${account}:schedule/${group}/${name}`;

  function handle(request: SchedulerRequest): { status: number; body: unknown } {
    const hook = hooks.findIndex((h) => h.operation === request.operation);
    if (hook >= 0) hooks.splice(hook, 1)[0]!.act();
    const fault = faults.find((f) => f.operation === request.operation && f.times > 0);
    if (fault) {
      fault.times--;
      throw new SchedulerError(fault.error, `${fault.error} (injected by the test)`);
    }
    const { name } = request;
    if (request.operation === 'CreateSchedule' || request.operation === 'UpdateSchedule') {
      const body = request.body ?? {};
      validate(name, body);
      const group = typeof body.GroupName === 'string' ? body.GroupName : 'default';
      const key = `${group}/${name}`;
      const exists = schedules.has(key);
      if (request.operation === 'CreateSchedule' && exists)
        throw new SchedulerError('ConflictException', `Schedule ${name} already exists.`);
      if (request.operation === 'UpdateSchedule' && !exists)
        throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
      const stored = { Name: name, GroupName: group, Arn: arnOf(group, name), body };
      schedules.set(key, stored);
      return { status: 200, body: { ScheduleArn: stored.Arn } };
    }
    const group = request.query.groupName ?? 'default';
    const stored = schedules.get(`${group}/${name}`);
    if (!stored) throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    if (request.operation === 'GetSchedule') {
      return { status: 200, body: { ...stored.body, Name: name, GroupName: group, Arn: stored.Arn } };
    }
    schedules.delete(`${group}/${name}`);
    return { status: 200, body: {} };
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await read(req);
      const url = new URL(req.url ?? '/', 'http://fake');
      const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
      const operation = (
        {
          POST: 'CreateSchedule',
          PUT: 'UpdateSchedule',
          GET: 'GetSchedule',
          DELETE: 'DeleteSchedule',
        } as const
      )[req.method as 'POST' | 'PUT' | 'GET' | 'DELETE'];
      if (!match || !operation) {
        reply(
          res,
          404,
          { message: `no route for ${req.method} ${url.pathname}` },
          'UnknownOperationException',
        );
        return;
      }
      const request: SchedulerRequest = {
        operation,
        method: req.method ?? '',
        name: decodeURIComponent(match[1]!),
        query: Object.fromEntries(url.searchParams),
        body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
        signed:
          typeof req.headers.authorization === 'string' &&
          req.headers.authorization.startsWith('AWS4-HMAC-SHA256'),
      };
      requests.push(request);
      try {
        const { status, body } = handle(request);
        reply(res, status, body);
      } catch (error) {
        if (!(error instanceof SchedulerError)) throw error;
        reply(res, STATUS[error.type], { Message: error.message }, error.type);
      }
    })().catch(() => {
      reply(res, 500, { Message: 'the fake failed' }, 'InternalServerException');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region,
    account,
    requests,
    schedules,
    failNext(operation, error, times = 1) {
      faults.push({ operation, error, times });
    },
    beforeNext(operation, act) {
      hooks.push({ operation, act });
    },
    reset() {
      schedules.clear();
      requests.length = 0;
      faults.length = 0;
      hooks.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
