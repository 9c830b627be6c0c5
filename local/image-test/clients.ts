/** Real clients through the running container: mosquitto_sub/mosquitto_pub (MQTT QoS 1) and kcat (Kafka). */
import { randomBytes } from 'node:crypto';
import { mustRun, run, start, waitFor } from './exec.js';

const HOST = '127.0.0.1';

/** A payload mosquitto_sub receives from mosquitto_pub, both at QoS 1; returns what was checked. */
export async function mqttRoundTrip(port: number): Promise<string> {
  const id = randomBytes(4).toString('hex');
  const topic = `robustmq/image-test/${id}`;
  const payload = `hello from the image test ${id}`;
  // -d prints the SUBACK, so the message is published only once the subscription stands; -W bounds the wait.
  // stdbuf: mosquitto_sub's stdout is a pipe here, which stdio would buffer past the SUBACK line.
  const server = ['-h', HOST, '-p', String(port)];
  const sub = start('stdbuf', ['-oL', 'mosquitto_sub', ...server, '-i', `image-test-sub-${id}`, '-t', topic, '-q', '1', '-C', '1', '-W', '30', '-d']);
  let out = '';
  let err = '';
  sub.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  sub.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const ended = new Promise<number | null>((resolve) => sub.once('close', (code) => resolve(code)));
  let exited: number | null | undefined;
  void ended.then((code) => (exited = code));
  try {
    await waitFor('mosquitto_sub SUBACK', 20_000, 50, async () => {
      if (exited !== undefined) throw new Error(`mosquitto_sub exited with ${exited} before SUBACK: ${err.trim() || out.trim()}`);
      return out.includes('SUBACK') ? true : undefined;
    });
    const pubArgs = [...server, '-i', `image-test-pub-${id}`, '-t', topic, '-q', '1', '-m', payload, '-d'];
    const pub = await mustRun('mosquitto_pub', pubArgs, { timeoutMs: 20_000 });
    if (!pub.stdout.includes('PUBACK')) throw new Error(`mosquitto_pub got no PUBACK:\n${pub.stdout}`);
    const code = await Promise.race([ended, new Promise<'late'>((r) => setTimeout(() => r('late'), 35_000))]);
    if (code === 'late') throw new Error('mosquitto_sub did not finish within 35s');
    const lines = out.split('\n').map((l) => l.trim());
    if (code !== 0 || !lines.includes(payload)) throw new Error(`mosquitto_sub exited ${code} without the payload:\n${out}${err}`);
    return `QoS 1 PUBLISH/PUBACK, subscriber received "${payload}" on ${topic}`;
  } finally {
    if (exited === undefined) sub.kill('SIGKILL');
  }
}

/** Records kcat produces (-P) come back to kcat consuming from the beginning (-C -o beginning -e), keys and values. */
export async function kafkaRoundTrip(port: number): Promise<string> {
  const id = randomBytes(4).toString('hex');
  const topic = `image-test-${id}`;
  const records = ['k1:first', 'k2:second', 'k3:third'].map((r) => `${r}-${id}`);
  const broker = `${HOST}:${port}`;
  await mustRun('kcat', ['-b', broker, '-P', '-t', topic, '-K', ':', '-X', 'message.timeout.ms=20000'], {
    timeoutMs: 30_000,
    input: `${records.join('\n')}\n`,
  });
  const consumed = await run('kcat', ['-b', broker, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k:%s\n'], { timeoutMs: 30_000 });
  const got = consumed.stdout.split('\n').filter(Boolean);
  if (consumed.code !== 0 || got.join('\n') !== records.join('\n')) {
    throw new Error(`consumed (exit ${consumed.code}):\n${consumed.stdout}${consumed.stderr}\nexpected:\n${records.join('\n')}`);
  }
  return `${records.length} records produced and consumed back in order on ${topic}`;
}
