import pino from 'pino';
import { redactErrorFields } from './sql-redaction';

export type Logger = pino.Logger;

/** Errors are logged with their SQL and driver details, values redacted (see sql-redaction.ts). */
const errSerializer = (error: unknown) => redactErrorFields(pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>);

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'loyalty-bff' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A member's token or mobile must never reach the logs.
    redact: ['req.headers.authorization', '*.authorization', '*.mobile', 'mobile'],
    serializers: { err: errSerializer, error: errSerializer },
  }, destination!);
}
