// A RobustMQ node in its own process, from the compiled build (dist/, which `npm run bench` builds first), so the
// broker runs the JavaScript users run. Config: JSON in argv[2], validated by the node's own config schema.
// IPC: { type: 'listening', ports } once every listener accepts. Plain JavaScript for the same reason as
// aedes-broker.mjs: no TypeScript loader inflating the measured process.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (file) => pathToFileURL(path.join(root, 'dist', 'runtime', file)).href;

try {
  const { startNode } = await import(dist('node.js'));
  const { nodeConfigSchema } = await import(dist('config/schema.js'));
  const node = await startNode(nodeConfigSchema.parse(JSON.parse(process.argv[2] ?? '{}')));
  process.send?.({ type: 'listening', ports: node.ports });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 5_000).unref();
    node.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
} catch (err) {
  process.send?.({ type: 'error', message: `RobustMQ node did not start: ${err?.message ?? err}` });
  process.exit(1);
}
