/**
 * Not a broker: the far end used to measure the load generator's own ceiling. It acknowledges the handshake,
 * discards what publishers send (acknowledging QoS 1), and writes PUBLISHes to each subscriber as fast as its
 * socket accepts. If a broker's figures come near these, the generator — not the broker — is the limit.
 * IPC: sends { type: 'listening', port }.
 */
import net from 'node:net';
import {
  CONNACK,
  FrameScanner,
  PUBACK,
  PUBLISH,
  SUBACK,
  publishPacket,
  publishPacketId,
  repeatPacket,
} from './mqtt-wire.js';

const SUBSCRIBE = 8;
const CONNECT = 1;
const payload = Buffer.alloc(64, 0x62);

function blast(sock: net.Socket, qos: 0 | 1): void {
  const packet = publishPacket('bench/calibration', payload, qos, 1);
  const chunk = repeatPacket(packet, Math.floor((16 * 1024) / packet.length));
  const turn = (): void => {
    for (let i = 0; i < 4; i++) {
      if (sock.destroyed) return;
      if (!sock.write(chunk)) {
        sock.once('drain', turn);
        return;
      }
    }
    setImmediate(turn);
  };
  turn();
}

const server = net.createServer({ noDelay: true }, (sock) => {
  let acks: number[] = [];
  const scanner = new FrameScanner((type, flags, buf, body, end) => {
    if (type === CONNECT) sock.write(Buffer.from([CONNACK << 4, 2, 0, 0]));
    else if (type === SUBSCRIBE) {
      const id = buf.readUInt16BE(body);
      const qos = (buf[end - 1] & 0x03) === 1 ? 1 : 0;
      sock.write(Buffer.from([SUBACK << 4, 3, id >> 8, id & 0xff, qos]));
      blast(sock, qos);
    } else if (type === PUBLISH && (flags & 0x06) !== 0) acks.push(publishPacketId(buf, body));
  });
  sock.on('data', (chunk: Buffer) => {
    scanner.push(chunk);
    if (acks.length === 0) return;
    const out = Buffer.allocUnsafe(acks.length * 4);
    acks.forEach((id, i) => {
      out[i * 4] = PUBACK << 4;
      out[i * 4 + 1] = 2;
      out.writeUInt16BE(id, i * 4 + 2);
    });
    acks = [];
    sock.write(out);
  });
  sock.on('error', () => sock.destroy());
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: (server.address() as net.AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
