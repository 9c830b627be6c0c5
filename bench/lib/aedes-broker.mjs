// Aedes as a peer broker in its own process: in-memory persistence, plain TCP on 127.0.0.1:0.
// IPC: { type: 'listening', port }. Plain JavaScript on purpose: a broker process started through the tsx loader
// carries about 35 MiB more RSS, which would distort the idle-connection memory comparison.
import net from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port });
});

// No aedes.close(): closing with a deep delivery backlog overflows mqemitter's stack; nothing is measured after this.
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
