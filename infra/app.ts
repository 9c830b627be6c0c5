/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Stack props come from context (`-c key=value`), for example
 * `npx cdk deploy -c minBrokers=0 -c maxBrokers=8 -c certificateArn=arn:aws:acm:...`. AwsSolutions checks
 * (cdk-nag) run on every synth. No AWS credentials are needed to synthesize.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './context.js';
import { RobustMQStack } from './stack.js';

const app = new App();
const { stackName, props } = propsFromContext(app);
new RobustMQStack(app, stackName, {
  ...props,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'RobustMQ: MQTT and Kafka on Fargate, S3 and DynamoDB (pay-per-use)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
