/** SaslHandshake (key 17), versions 0-1. Field layouts from Apache Kafka's SaslHandshakeRequest.json / SaslHandshakeResponse.json. */
import { array, field, int16, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  mechanism: field(string, '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  errorCode: field(int16, '0+'),
  mechanisms: field(array(string), '0+'),
});
export type Response = Infer<typeof Response>;
