import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../runtime/config/load.js';
import { startCommand } from '../../runtime/cli/start.js';
import { RobustMQError } from '../../runtime/errors.js';

const savedRegion = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
afterEach(() => {
  for (const [name, value] of Object.entries(savedRegion)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('DynamoDB meta store configuration', () => {
  it('defaults to table prefix robustmq, table creation on, 1 s polling, region from AWS_REGION or us-east-1', () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    expect(loadConfig({ flags: { meta: 'dynamodb' } })).toMatchObject({
      meta: 'dynamodb',
      dynamodbTablePrefix: 'robustmq',
      dynamodbRegion: 'us-east-1',
      createTables: true,
      dynamodbPollMs: 1000,
    });
    expect(loadConfig({}).dynamodbEndpoint).toBeUndefined();
    process.env.AWS_REGION = 'eu-west-3';
    expect(loadConfig({}).dynamodbRegion).toBe('eu-west-3');
    expect(loadConfig({ flags: { dynamodbRegion: 'ap-south-1' } }).dynamodbRegion).toBe('ap-south-1');
  });

  it('reads every key from flags and ROBUSTMQ_* env vars', () => {
    const env = {
      ROBUSTMQ_META: 'dynamodb',
      ROBUSTMQ_DYNAMODB_ENDPOINT: 'http://localhost:4566',
      ROBUSTMQ_DYNAMODB_TABLE_PREFIX: 'prod.eu',
      ROBUSTMQ_CREATE_TABLES: 'false',
      ROBUSTMQ_DYNAMODB_POLL_MS: '250',
    };
    expect(loadConfig({ env })).toMatchObject({
      meta: 'dynamodb',
      dynamodbEndpoint: 'http://localhost:4566',
      dynamodbTablePrefix: 'prod.eu',
      createTables: false,
      dynamodbPollMs: 250,
    });
  });

  it('names the flag of a bad value', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(RobustMQError);
        return (err as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(message(() => loadConfig({ flags: { dynamodbTablePrefix: 'a b' } }))).toContain('--dynamodb-table-prefix');
    expect(message(() => loadConfig({ flags: { dynamodbEndpoint: 'not a url' } }))).toContain('--dynamodb-endpoint');
    expect(message(() => loadConfig({ flags: { meta: 'zookeeper' } }))).toContain('embedded, dynamodb');
  });

  it('offers --create-tables and --no-create-tables on the command line', () => {
    const cmd = startCommand();
    cmd.parseOptions(['--meta', 'dynamodb', '--dynamodb-endpoint', 'http://127.0.0.1:8000', '--no-create-tables']);
    expect(cmd.opts()).toMatchObject({ meta: 'dynamodb', dynamodbEndpoint: 'http://127.0.0.1:8000', createTables: false });
    const again = startCommand();
    again.parseOptions(['--create-tables']);
    expect(again.opts().createTables).toBe(true);
  });
});
