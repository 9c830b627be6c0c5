/**
 * Request and response headers. Request header v1 = apiKey, apiVersion, correlationId, clientId (a classic
 * nullable string even in v2); v2 adds tagged fields and is used by flexible API versions (KIP-482). Response
 * header v0 = correlationId; v1 adds tagged fields. ApiVersions responses always use header v0 so that a client
 * can read them before knowing which versions the broker speaks (KIP-511).
 */
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export const API_VERSIONS_KEY = 18;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads the fixed part (header v1) of a request; the caller decides whether tagged fields follow. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.string(false);
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips the tagged fields of request header v2 (none are defined that a broker needs). */
export function skipHeaderTags(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

export function writeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId).string(h.clientId, false);
  if (flexible) w.uvarint(0);
}

/** Whether the response to this request carries header v1. */
export function responseHeaderFlexible(apiKey: number, flexibleRequest: boolean): boolean {
  return flexibleRequest && apiKey !== API_VERSIONS_KEY;
}

export function writeResponseHeader(w: Writer, correlationId: number, flexible: boolean): void {
  w.int32(correlationId);
  if (flexible) w.uvarint(0);
}
