import pino from 'pino';
import { redactErrorFields } from './sql-redaction';

export type Logger = pino.Logger;

/** Errors are logged with their SQL and driver details, values redacted (see sql-redaction.ts). */
const errSerializer = (error: unknown) => redactErrorFields(pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>);

/**
 * JSON lines everywhere but development, where pino-pretty prints them readably (a worker
 * thread; never in production, where a log shipper wants one JSON object per line).
 * `destination` is for tests that read what was logged.
 */
export function createLogger(level: string, options: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'loyalty-bff' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A member's token or mobile must never reach the logs.
      redact: ['req.headers.authorization', '*.authorization', '*.mobile', 'mobile'],
      serializers: { err: errSerializer, error: errSerializer },
      ...(options.pretty && !options.destination ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
    },
    options.destination,
  );
}
