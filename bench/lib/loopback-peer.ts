/**
 * The machine's loopback TCP ceiling: argv[2] 'sink' listens and counts bytes (IPC: listening, snapshot);
 * 'pump' connects to argv[3] and writes 64 KiB buffers while the socket accepts them.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const role = process.argv[2];
const send = (m: object): void => {
  process.send?.(m);
};

if (role === 'sink') {
  let bytes = 0;
  const server = net.createServer((sock) => {
    sock.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    sock.on('error', () => sock.destroy());
  });
  server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'snapshot') send({ type: 'snapshot', at: performance.now(), bytes });
  });
} else if (role === 'pump') {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const sock = net.connect(Number(process.argv[3]), '127.0.0.1');
  const pump = (): void => {
    while (sock.write(chunk));
    sock.once('drain', pump);
  };
  sock.once('connect', pump);
  sock.on('error', () => process.exit(1));
} else {
  throw new Error(`unknown role ${role}`);
}
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
