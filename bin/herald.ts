/**
 * The CDK app. Run through tsx (cdk.json) so the stack imports the same TypeScript the handlers use.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HeraldStack } from '../lib/herald-stack';

const app = new App();
// Environment-agnostic on purpose: synth needs no credentials or lookups, and `cdk deploy` fills in the
// account and region of whoever deploys.
new HeraldStack(app, 'Herald', {
  description:
    'Herald: public-alert fan-out (API, table, queues, channel workers, sweeper, receipt callbacks, image CDN)',
});
// Findings are errors at synth time: a new resource has to pass the checks or carry a stated reason.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
