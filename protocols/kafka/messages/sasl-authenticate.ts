/** SaslAuthenticate (key 36), versions 0-2. Field layouts from Apache Kafka's SaslAuthenticateRequest.json / SaslAuthenticateResponse.json. */
import { bytes, field, int16, int64, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  authBytes: field(bytes, '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  errorCode: field(int16, '0+'),
  errorMessage: field(string, '0+', { nullable: '0+' }),
  authBytes: field(bytes, '0+'),
  sessionLifetimeMs: field(int64, '1+', { default: 0 }),
});
export type Response = Infer<typeof Response>;
