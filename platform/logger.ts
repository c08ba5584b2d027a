import { pino, type Logger } from 'pino';

export type { Logger };

/** The platform's one logger factory: JSON lines on stdout, one child per service. */
export function createLogger(service: string, level: string = process.env.ANGELIS_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}
