/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Stack props come from context (`-c key=value`), for example
 * `npx cdk deploy -c certificateArn=arn:aws:acm:... -c minBrokers=0 -c maxBrokers=8`. Either `certificateArn` (TLS)
 * or `plaintext=true` must be given: synth refuses to publish plaintext listeners by default. AwsSolutions checks
 * (cdk-nag) run on every synth. No AWS credentials are needed to synthesize.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './context.js';
import { RobustMQStack } from './stack.js';

const app = new App();
try {
  const { stackName, props } = propsFromContext(app);
  new RobustMQStack(app, stackName, {
    ...props,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: 'RobustMQ: MQTT and Kafka on Fargate, S3 and DynamoDB (pay-per-use)',
  });
} catch (err) {
  // The option checks (context.ts, stack.ts) throw plain Errors written for the person running cdk: their message
  // alone says what to do. Anything else keeps its stack trace.
  if (!(err instanceof Error) || err.constructor !== Error) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
