import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** An SMTP server on 127.0.0.1 that accepts every message and keeps only a count. */
export interface SmtpSink {
  port: number;
  /** Messages accepted since the start or the last `reset()`. */
  accepted(): number;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Starts the sink. smtp-server (3.21) waits 100 ms before its greeting to catch clients that talk too early.
 * The naive way opens a connection per email, so it would pay that wait for every subscriber, which no submission
 * server charges. This process (the benchmark's parent, never the service) therefore greets connections at once.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  SMTPConnection.prototype.init = function greetAtOnce(this: SMTPConnection) {
    this._setListeners(() => this.connectionReady());
  };

  let accepted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // Without this, smtp-server looks up every client's name in DNS.
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        accepted++;
        callback(null);
      });
      stream.resume();
    },
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.server.address() as AddressInfo).port,
    accepted: () => accepted,
    reset: () => {
      accepted = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
