/**
 * mqtt-packet reads a v5 property whose string or binary length runs past the end of the packet as null instead of
 * failing the packet; a length that runs past the packet makes it a Malformed Packet (MQTT 5 section 4.13). The
 * handlers, the router and the encoders must never see those nulls (a null Response Topic or User Property value
 * would throw where a string is expected), so the connection refuses the packet here.
 */
import type mqtt from 'mqtt-packet';

function holdsNull(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  if (Array.isArray(value)) return value.some(holdsNull);
  for (const key in value) if (holdsNull((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** True when the packet's properties (or its will's, for CONNECT) hold a value mqtt-packet could not read. */
export function hasUnreadableProperty(packet: mqtt.Packet): boolean {
  const p = packet as { properties?: unknown; will?: { properties?: unknown } | null };
  return (p.properties !== undefined && holdsNull(p.properties)) || (p.will?.properties !== undefined && holdsNull(p.will.properties));
}
