/**
 * TLS for every listener (Kafka SSL now, MQTTS and WSS with the same options): reads the PEM files named by
 * --tls-cert / --tls-key / --tls-ca once at start and fails with one clear line when one is missing, unreadable or
 * does not fit the others. With a CA, clients must present a certificate it signed (requested and verified).
 *
 *   const tlsOptions = loadTlsOptions(ctx.config);          // undefined when TLS is not configured
 *   tls.createServer({ ...tlsOptions, handshakeTimeout }, ...)
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { RobustMQError } from './errors.js';

export interface TlsSettings {
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
}

function read(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new RobustMQError('INVALID_ARGUMENT', `cannot read ${flag} ${file}: ${reason}`);
  }
}

/** Server options for node:tls (and https/wss), or undefined when no certificate is configured. */
export function loadTlsOptions(settings: TlsSettings): TlsOptions | undefined {
  const { tlsCert, tlsKey, tlsCa } = settings;
  if (!tlsCert && !tlsKey && !tlsCa) return undefined;
  if (!tlsCert || !tlsKey) {
    throw new RobustMQError('INVALID_ARGUMENT', `--tls-cert and --tls-key go together${tlsCa ? ' (and --tls-ca needs both)' : ''}`);
  }
  const options: TlsOptions = { cert: read('--tls-cert', tlsCert), key: read('--tls-key', tlsKey), minVersion: 'TLSv1.2' };
  if (tlsCa) Object.assign(options, { ca: read('--tls-ca', tlsCa), requestCert: true, rejectUnauthorized: true });
  try {
    createSecureContext(options);
  } catch (err) {
    throw new RobustMQError('INVALID_ARGUMENT', `invalid TLS files (--tls-cert ${tlsCert}, --tls-key ${tlsKey}): ${(err as Error).message}`);
  }
  return options;
}

/** The common name of a client certificate the server verified, or undefined (no certificate, or not verified). */
export function verifiedPeerName(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}
