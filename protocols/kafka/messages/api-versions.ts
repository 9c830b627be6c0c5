/** ApiVersions (key 18), versions 0-3. Field layouts from Apache Kafka's ApiVersionsRequest.json / ApiVersionsResponse.json. */
import { array, bool, field, int16, int32, int64, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  clientSoftwareName: field(string, '3+'),
  clientSoftwareVersion: field(string, '3+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  errorCode: field(int16, '0+'),
  apiKeys: field(array(struct({
    apiKey: field(int16, '0+'),
    minVersion: field(int16, '0+'),
    maxVersion: field(int16, '0+'),
  })), '0+'),
  throttleTimeMs: field(int32, '1+'),
  supportedFeatures: field(array(struct({
    name: field(string, '3+'),
    minVersion: field(int16, '3+'),
    maxVersion: field(int16, '3+'),
  })), '3+', { tag: 0 }),
  finalizedFeaturesEpoch: field(int64, '3+', { default: -1, tag: 1 }),
  finalizedFeatures: field(array(struct({
    name: field(string, '3+'),
    maxVersionLevel: field(int16, '3+'),
    minVersionLevel: field(int16, '3+'),
  })), '3+', { tag: 2 }),
  zkMigrationReady: field(bool, '3+', { default: false, tag: 3 }),
});
export type Response = Infer<typeof Response>;

