import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines everywhere but development, where pino-pretty prints them readably (a worker
 * thread; never in production, where a log shipper wants one JSON object per line).
 */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  return pino({
    level,
    base: { service: 'loyalty-bff' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A member's token or mobile must never reach the logs.
    redact: ['req.headers.authorization', '*.authorization', '*.mobile', 'mobile'],
    ...(options.pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
  });
}
