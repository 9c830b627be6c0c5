/**
 * Sends a Kafka request to another broker of the cluster over its internal listener and decodes the answer: the
 * same API and version the client used, so the answer can be relayed as it is or merged field by field. The
 * peer serves it as the partitions' leader (or the group's coordinator), as the client's principal (envelope.ts),
 * and never forwards it again.
 */
import type { BrokerLeaseValue } from '../../../runtime/cluster/records.js';
import { PeerError } from '../../../runtime/cluster/transport.js';
import { isFlexible, type KafkaApi, type KafkaRequestContext } from '../apis/types.js';
import { decode, encode } from '../codec/codec.js';
import { responseHeaderFlexible, skipHeaderTags, writeRequestHeader } from '../codec/header.js';
import { Reader } from '../codec/reader.js';
import { Writer } from '../codec/writer.js';
import { ErrorCode } from '../errors.js';
import { writeEnvelope } from './envelope.js';

let nextCorrelationId = 0;

/** Slack added to a request's own timeout before the forwarding broker gives up on the peer. */
export const FORWARD_SLACK_MS = 5000;

export interface ForwardOptions {
  /** False for Produce with acks=0, which is answered by nobody. @default true */
  readonly expectResponse?: boolean;
  readonly timeoutMs: number;
}

export async function forward<Req, Res>(
  ctx: KafkaRequestContext,
  to: BrokerLeaseValue,
  api: KafkaApi<Req, Res>,
  request: Req,
  options: ForwardOptions,
): Promise<Res | null> {
  const cluster = ctx.broker.cluster!;
  const version = ctx.apiVersion;
  const flexible = isFlexible(api, version);
  const correlationId = (nextCorrelationId = (nextCorrelationId + 1) & 0x7fffffff);
  const w = new Writer();
  // The client's own client.id: group members, logs and quotas on the leader see the client, not this broker.
  writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: ctx.clientId ?? null }, flexible);
  encode(api.request, w, request, version, flexible);
  const expectResponse = options.expectResponse ?? true;
  const body = [writeEnvelope(ctx.session.principal), ...w.finish()];
  const frame = await cluster.peers.request(to.id, body, { expectResponse, timeoutMs: options.timeoutMs });
  if (frame === null) return null;
  const r = new Reader(frame);
  if (r.int32() !== correlationId) throw new PeerError('closed', `broker ${to.id} answered another request`);
  if (responseHeaderFlexible(api.apiKey, flexible)) skipHeaderTags(r);
  return decode(api.response, r, version, flexible);
}

/**
 * The Kafka error for a failed forward: the leader could not be reached (retry after a metadata refresh), or the
 * request's outcome is unknown (`unknownOutcome`, REQUEST_TIMED_OUT: a produce may have been stored).
 */
export function forwardError(err: unknown, unknownOutcome: ErrorCode = ErrorCode.REQUEST_TIMED_OUT): ErrorCode {
  if (err instanceof PeerError && err.kind !== 'unreachable') return unknownOutcome;
  return ErrorCode.NOT_LEADER_OR_FOLLOWER;
}
