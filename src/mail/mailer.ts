import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

export interface OutgoingEmail {
  to: { name: string; address: string };
  subject: string;
  html: string;
  text: string;
}

/** Reply of the SMTP server (or the outbox) that took a message. */
export interface AcceptedEmail {
  messageId: string;
  response: string;
}

/** Sends one message at a time through a shared connection pool, within the configured send rate. */
export interface Mailer {
  /** Resolves once the SMTP server accepted the message, and rejects with nodemailer's error otherwise. */
  send(email: OutgoingEmail): Promise<AcceptedEmail>;
  close(): void;
  /** Destination of messages, for the start-up log: an SMTP server or an outbox folder. */
  readonly destination: string;
}

/** Builds the SMTP mailer when EMAIL_HOST is set, and the outbox mailer otherwise. */
export function createMailer(config: Config, logger: Logger): Mailer {
  const smtp = config.email.smtp;
  const transporter = smtp ? createSmtpTransport(config) : createOutboxTransport();
  const destination = smtp ? `smtp://${smtp.host}:${smtp.port}` : config.email.outboxDir;

  return {
    destination,
    async send(email) {
      const info = await transporter.sendMail({
        from: config.email.from,
        to: { name: headerSafe(email.to.name), address: email.to.address },
        subject: headerSafe(email.subject),
        html: email.html,
        text: email.text,
      });

      if (smtp) return { messageId: info.messageId, response: String(info.response ?? '') };
      return saveToOutbox(config.email.outboxDir, info, logger);
    },
    close() {
      transporter.close();
    },
  };
}

function createSmtpTransport(config: Config): Transporter {
  const smtp = config.email.smtp!;
  return nodemailer.createTransport({
    pool: true,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.implicitTls,
    requireTLS: smtp.startTls,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password } : undefined,
    maxConnections: smtp.poolSize,
    // The pool sends one message per rateDelta milliseconds across all its connections.
    ...(config.email.ratePerSecond > 0 ? { rateLimit: 1, rateDelta: Math.ceil(1000 / config.email.ratePerSecond) } : {}),
    maxMessages: 1000,
    connectionTimeout: config.email.timeoutMs,
    greetingTimeout: config.email.timeoutMs,
    socketTimeout: config.email.timeoutMs,
    logger: false,
    debug: false,
  });
}

function createOutboxTransport(): Transporter {
  return nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
}

async function saveToOutbox(folder: string, info: { messageId: string; message?: unknown }, logger: Logger): Promise<AcceptedEmail> {
  await mkdir(folder, { recursive: true });

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(folder, `${stamp}-${randomUUID().slice(0, 8)}.eml`);
  await writeFile(file, info.message as Buffer, { mode: 0o600 });

  logger.debug({ file }, 'email saved to the outbox');
  return { messageId: info.messageId, response: `saved to ${file}` };
}

/** Removes control characters, so that no value can start a new header line. */
function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
