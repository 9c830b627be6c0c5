/** Runs kcat (librdkafka's command-line client) against a broker, asynchronously (the broker shares this process). */
import { execFile } from 'node:child_process';

export interface KcatResult {
  stdout: string;
  stderr: string;
}

export function kcat(port: number, args: string[], input = '', timeoutMs = 20_000): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'kcat',
      ['-b', `127.0.0.1:${port}`, ...args],
      { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr.slice(0, 2000)}`));
        else resolve({ stdout, stderr });
      },
    );
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers: string[] | null;
  key: string | null;
  payload: string | null;
}

/** Consumes a whole topic from the beginning (-e: exit at the end) in kcat's JSON envelope format. */
export async function consumeAll(port: number, topic: string, extra: string[] = []): Promise<KcatMessage[]> {
  const { stdout } = await kcat(port, ['-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q', ...extra]);
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as KcatMessage);
}
