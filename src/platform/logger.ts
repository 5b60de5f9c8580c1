import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'loyalty-bff' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A member's token or mobile must never reach the logs.
    redact: ['req.headers.authorization', '*.authorization', '*.mobile', 'mobile'],
  });
}
