/** DescribeConfigs (versions 0-4). Field layouts from Apache Kafka's DescribeConfigsRequest.json / DescribeConfigsResponse.json. */
import { array, bool, field, int16, int32, int8, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  resources: field(array(struct({
    resourceType: field(int8, '0+'),
    resourceName: field(string, '0+'),
    configurationKeys: field(array(string), '0+', { nullable: '0+' }),
  })), '0+'),
  includeSynonyms: field(bool, '1+', { default: false }),
  includeDocumentation: field(bool, '3+', { default: false }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  results: field(array(struct({
    errorCode: field(int16, '0+'),
    errorMessage: field(string, '0+', { nullable: '0+' }),
    resourceType: field(int8, '0+'),
    resourceName: field(string, '0+'),
    configs: field(array(struct({
      name: field(string, '0+'),
      value: field(string, '0+', { nullable: '0+' }),
      readOnly: field(bool, '0+'),
      isDefault: field(bool, '0'),
      configSource: field(int8, '1+', { default: -1 }),
      isSensitive: field(bool, '0+'),
      synonyms: field(array(struct({
        name: field(string, '1+'),
        value: field(string, '1+', { nullable: '0+' }),
        source: field(int8, '1+'),
      })), '1+'),
      configType: field(int8, '3+'),
      documentation: field(string, '3+', { nullable: '0+' }),
    })), '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

