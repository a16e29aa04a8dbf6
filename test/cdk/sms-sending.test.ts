/**
 * The SMS fan-out's numbers as an operator sets them (`-c smsSenderConcurrency=4`, which arrives as a string):
 * one value drives the event source's maximum concurrency, the senders' environment and their timeout.
 * Synthesized without bundling (the wiring is what is read here, not the code).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/config';
import { HeraldStack, SMS_JOBS_PER_INVOCATION } from '../../lib/herald-stack';
import { MAX_RECIPIENTS_PER_JOB } from '../../schemas/messages';

interface Fn {
  Properties: { Timeout: number; Environment?: { Variables?: Record<string, unknown> } };
}

function synth(context: Record<string, unknown>): Template {
  const app = new App({
    context: { sesIdentity: 'agency.example', 'aws:cdk:bundling-stacks': [], ...context },
  });
  return Template.fromStack(new HeraldStack(app, 'Herald'));
}

function byService(template: Template, service: string): [string, Fn] {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as [string, Fn][];
  const found = functions.filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  );
  expect(found, service).toHaveLength(1);
  return found[0]!;
}

describe('SMS sending numbers from the context', () => {
  it('uses -c values for the sms event source, the senders, dispatch and the sender timeout', () => {
    const template = synth({
      smsMessagesPerSecond: '40',
      smsSenderConcurrency: '4',
      recipientsPerJob: '200',
    });

    const [smsId, sms] = byService(template, 'herald-channel-sms');
    const env = sms.Properties.Environment!.Variables!;
    expect(env[ENV.smsMessagesPerSecond]).toBe('40');
    expect(env[ENV.smsSenderConcurrency]).toBe('4');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: smsId },
      BatchSize: SMS_JOBS_PER_INVOCATION,
      ScalingConfig: { MaximumConcurrency: 4 },
    });
    const [, dispatch] = byService(template, 'herald-dispatch');
    expect(dispatch.Properties.Environment!.Variables!).toMatchObject({
      [ENV.recipientsPerJob]: '200',
      [ENV.smsMessagesPerSecond]: '40',
    });
    // 200 recipients at 40 / 4 = 10 per second: 20 s of sending, twice that plus 20 s.
    expect(sms.Properties.Timeout).toBe(60);
  });

  it.each([
    [{ smsSenderConcurrency: 1 }, /smsSenderConcurrency must be a whole number from 2 to 1000/],
    [{ smsMessagesPerSecond: 'fast' }, /smsMessagesPerSecond must be a whole number/],
    [{ recipientsPerJob: 2.5 }, /recipientsPerJob must be a whole number/],
    [{ recipientsPerJob: MAX_RECIPIENTS_PER_JOB + 1 }, /recipientsPerJob must be a whole number from 1 to/],
    [{ smsMessagesPerSecond: 1, recipientsPerJob: 1000 }, /over Lambda's 900 s/],
  ])('refuses %j at synth, saying why', (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});
