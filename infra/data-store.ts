/**
 * Where the data lives: the S3 bucket of the S3 storage engine and the DynamoDB table of the MetaStore. Both are
 * pay-per-use, so an idle deployment costs only what it stores.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface DataStoreProps {
  /** Prefix of the DynamoDB table names (`<prefix>-meta`), as brokers get it in `--dynamodb-table-prefix`. */
  readonly tablePrefix: string;
  /**
   * The longest time records are kept. Objects older than this plus one day are deleted by a lifecycle rule, a
   * safety net behind the engine's own per-topic retention.
   * @default Duration.days(7)
   */
  readonly retention?: Duration;
  /**
   * What happens to the bucket and table when the stack is deleted. DESTROY also empties the bucket.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The MetaStore's table layout (runtime/meta/dynamodb): one table, namespace + key, expiry in `ttl`. */
export const META_TABLE = { suffix: '-meta', partitionKey: 'ns', sortKey: 'key', ttlAttribute: 'ttl' } as const;

export class DataStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly metaTable: dynamodb.Table;
  readonly tablePrefix: string;

  constructor(scope: Construct, id: string, props: DataStoreProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = props.retention ?? Duration.days(7);
    this.tablePrefix = props.tablePrefix;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [
        { id: 'retention', expiration: Duration.days(Math.ceil(retention.toHours() / 24) + 1) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.metaTable = new dynamodb.Table(this, 'MetaTable', {
      tableName: `${props.tablePrefix}${META_TABLE.suffix}`,
      partitionKey: { name: META_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: META_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: META_TABLE.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
  }

  /** Every table the MetaStore uses (one today). */
  get tables(): dynamodb.Table[] {
    return [this.metaTable];
  }
}
