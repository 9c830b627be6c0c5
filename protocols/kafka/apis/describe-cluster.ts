/** DescribeCluster (key 60, KIP-700): this broker as the whole cluster and its controller. */
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/describe-cluster.js';
import { defineApi } from './types.js';

const BROKERS_ENDPOINT = 1;

export const describeClusterApi = defineApi({
  apiKey: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 1,
  flexibleVersion: 0,
  request: Request,
  response: Response,
  handler: (req, ctx) => {
    const self = ctx.connection.endpoint;
    if (req.endpointType !== BROKERS_ENDPOINT) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `endpoint type ${req.endpointType} is not served`,
        endpointType: req.endpointType,
        clusterId: ctx.kafka.clusterId,
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: -2147483648,
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: BROKERS_ENDPOINT,
      clusterId: ctx.kafka.clusterId,
      controllerId: self.nodeId,
      brokers: [{ brokerId: self.nodeId, host: self.host, port: self.port, rack: self.rack }],
      clusterAuthorizedOperations: -2147483648,
    };
  },
});
