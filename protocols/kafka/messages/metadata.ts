/** Metadata (versions 0-12). Field layouts from Apache Kafka's MetadataRequest.json / MetadataResponse.json. */
import { array, bool, field, int16, int32, string, struct, uuid, type Infer } from '../codec/schema.js';

export const Request = struct({
  topics: field(array(struct({
    topicId: field(uuid, '10+'),
    name: field(string, '0+', { nullable: '10+' }),
  })), '0+', { nullable: '1+' }),
  allowAutoTopicCreation: field(bool, '4+', { default: true }),
  includeClusterAuthorizedOperations: field(bool, '8-10'),
  includeTopicAuthorizedOperations: field(bool, '8+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '3+'),
  brokers: field(array(struct({
    nodeId: field(int32, '0+'),
    host: field(string, '0+'),
    port: field(int32, '0+'),
    rack: field(string, '1+', { nullable: '1+' }),
  })), '0+'),
  clusterId: field(string, '2+', { nullable: '2+' }),
  controllerId: field(int32, '1+', { default: -1 }),
  topics: field(array(struct({
    errorCode: field(int16, '0+'),
    name: field(string, '0+', { nullable: '12+' }),
    topicId: field(uuid, '10+'),
    isInternal: field(bool, '1+', { default: false }),
    partitions: field(array(struct({
      errorCode: field(int16, '0+'),
      partitionIndex: field(int32, '0+'),
      leaderId: field(int32, '0+'),
      leaderEpoch: field(int32, '7+', { default: -1 }),
      replicaNodes: field(array(int32), '0+'),
      isrNodes: field(array(int32), '0+'),
      offlineReplicas: field(array(int32), '5+'),
    })), '0+'),
    topicAuthorizedOperations: field(int32, '8+', { default: -2147483648 }),
  })), '0+'),
  clusterAuthorizedOperations: field(int32, '8-10', { default: -2147483648 }),
});
export type Response = Infer<typeof Response>;

