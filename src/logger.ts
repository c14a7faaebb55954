import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { createStream } from 'rotating-file-stream';
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
 * Creates the service logger: readable lines on a terminal, one JSON object a line in production (when the
 * console is not a terminal) and in the log file, which rotates by size. Levels are written in capitals.
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
    streams.push({ level: config.log.level as pino.Level, stream: rotatingLogFile(config.log) });
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
 * Opens the log file with logrotate-style rotation: past `maxSizeMb` it becomes FILE.1, FILE.1 becomes FILE.2,
 * and so on, and FILE.<maxFiles> is deleted, so the files never take more than about (maxFiles + 1) * maxSizeMb.
 * Writes are asynchronous: lines still buffered when the process is killed are lost, but a normal exit waits for them.
 * Two processes must not share one log file, because each would rotate it on its own.
 */
function rotatingLogFile(log: { file?: string; maxSizeMb: number; maxFiles: number }): NodeJS.WritableStream {
  mkdirSync(path.dirname(log.file!), { recursive: true });
  const stream = createStream(log.file!, { size: `${log.maxSizeMb}M`, rotate: log.maxFiles });

  // After an error the stream is closed for good, but the console keeps logging, so report it once and carry on.
  let reported = false;
  stream.on('error', (error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`waitlist: the log file ${log.file} cannot be written (${error.message}); logging continues on the console only\n`);
  });

  return stream;
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
