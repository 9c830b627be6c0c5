/** DescribeCluster (versions 0-1). Field layouts from Apache Kafka's DescribeClusterRequest.json / DescribeClusterResponse.json. */
import { array, bool, field, int16, int32, int8, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  includeClusterAuthorizedOperations: field(bool, '0+'),
  endpointType: field(int8, '1+', { default: 1 }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  errorCode: field(int16, '0+'),
  errorMessage: field(string, '0+', { nullable: '0+' }),
  endpointType: field(int8, '1+', { default: 1 }),
  clusterId: field(string, '0+'),
  controllerId: field(int32, '0+', { default: -1 }),
  brokers: field(array(struct({
    brokerId: field(int32, '0+'),
    host: field(string, '0+'),
    port: field(int32, '0+'),
    rack: field(string, '0+', { nullable: '0+' }),
  })), '0+'),
  clusterAuthorizedOperations: field(int32, '0+', { default: -2147483648 }),
});
export type Response = Infer<typeof Response>;

