import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.ts';

export type { Logger };

/** Field paths whose values never reach a log line, however a caller names them. */
const REDACTED_PATHS = [
  'password',
  'temporaryPassword',
  'passwordHash',
  'password_hash',
  'token',
  'cookie',
  'authorization',
  '*.password',
  '*.temporaryPassword',
  '*.passwordHash',
  '*.password_hash',
  '*.token',
  '*.cookie',
  '*.authorization',
  'req.headers.cookie',
  'req.headers.authorization',
];

/**
 * Creates the service logger: readable lines on the console, one JSON object a line in the log file.
 * Levels are written in capitals (INFO, WARN, ERROR) in both.
 */
export function createLogger(config: Pick<Config, 'log' | 'production'>, console: NodeJS.WritableStream = process.stdout): Logger {
  const streams: pino.StreamEntry[] = [];

  if (config.production && !('isTTY' in console && console.isTTY)) {
    streams.push({ level: config.log.level as pino.Level, stream: console });
  } else {
    streams.push({
      level: config.log.level as pino.Level,
      stream: pretty({ destination: console, colorize: false, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:standard' }),
    });
  }

  if (config.log.file) {
    mkdirSync(path.dirname(config.log.file), { recursive: true });
    streams.push({ level: config.log.level as pino.Level, stream: pino.destination({ dest: config.log.file, sync: true }) });
  }

  return pino(
    {
      level: config.log.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
    },
    pino.multistream(streams),
  );
}

/**
 * Keeps an error's type, code, message and stack. Database errors also carry the SQL and its parameters,
 * which may hold a password hash or a person's details, so those never reach the log.
 */
function serializeError(error: Error & { code?: string; parent?: { code?: string } }) {
  if (!(error instanceof Error)) return error;
  return { type: error.name, code: error.code ?? error.parent?.code, message: error.message, stack: error.stack };
}

/** Turns any thrown value into an Error, so that logs and error columns always get a message. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}
