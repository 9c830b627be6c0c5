/**
 * Test certificates made with the openssl CLI in a temp directory: a CA, a server certificate for 127.0.0.1 /
 * localhost signed by it, a client certificate (CN = the given user) signed by it, and a second, untrusted CA.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A certificate and key signed by a CA the server does not trust. */
  readonly strangerCert: string;
  readonly strangerKey: string;
  remove(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

async function ca(dir: string, name: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', `${name}.key`, '-out', `${name}.crt`]);
}

async function signed(dir: string, name: string, cn: string, caName: string, extensions: string): Promise<void> {
  await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial',
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export async function makeTestPki(clientUser = 'alice'): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-pki-'));
  await ca(dir, 'ca');
  await ca(dir, 'other-ca');
  await signed(dir, 'server', '127.0.0.1', 'ca',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  const clientExt = 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n';
  await signed(dir, 'client', clientUser, 'ca', clientExt);
  await signed(dir, 'stranger', clientUser, 'other-ca', clientExt);
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    strangerCert: f('stranger.crt'),
    strangerKey: f('stranger.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
