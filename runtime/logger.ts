import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One structured JSON line per event; pretty output only when stdout is a terminal. */
export function createLogger(level: LogLevel, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const base: LoggerOptions = { level, base: { pid: process.pid }, name: 'robustmq' };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(base);
}
