import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { recordSecrets } from './artifacts.ts';

/** An SMTP reply that the test server sends instead of accepting. */
export interface Reply {
  code: number;
  message: string;
}

/**
 * How the test server treats the next messages:
 * - `accept`: take every message;
 * - `refuse`: close the listening socket, so connections are refused;
 * - `stall`: accept the connection and never answer DATA (for timeouts);
 * - `drop`: cut the connection in the middle of the message.
 */
export type SmtpMode = 'accept' | 'refuse' | 'stall' | 'drop';

export interface ReceivedEmail {
  envelopeTo: string[];
  parsed: ParsedMail;
  raw: string;
}

/** A real SMTP server on 127.0.0.1 for tests, whose behaviour a test can change between runs. */
export class TestSmtpServer {
  readonly received: ReceivedEmail[] = [];
  /** Reply for a recipient at RCPT TO, or undefined to accept it. */
  recipientReply: (address: string) => Reply | undefined = () => undefined;
  /** Reply after DATA for a message to these envelope recipients, or undefined to accept the message. */
  dataReply: (envelopeTo: string[]) => Reply | undefined = () => undefined;
  /** Milliseconds to wait before replying to DATA. */
  delayMs = 0;
  /** Called with the envelope recipients once a whole message is in, after `delayMs` and before the reply. */
  beforeReply: (envelopeTo: string[]) => Promise<void> | void = () => undefined;
  /** Envelope recipients in the order their messages began (RCPT TO), whatever became of the messages. */
  readonly started: string[] = [];
  /** Temporary passwords found in any message body the server saw, accepted or not. */
  readonly passwords = new Set<string>();
  /** Set-password tokens found in any message body the server saw, accepted or not. */
  readonly tokens = new Set<string>();

  private server!: SMTPServer;
  private sockets = new Set<Socket>();
  private currentMode: SmtpMode = 'accept';
  private stalled: Array<() => void> = [];
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      size: 10 * 1024 * 1024,
      onConnect: (session, callback) => this.onConnect(session, callback),
      onRcptTo: (address, _session, callback) => {
        this.started.push(address.address.toLowerCase());
        const reply = this.recipientReply(address.address);
        callback(reply ? replyError(reply) : undefined);
      },
      onData: (stream, session, callback) => this.onData(stream, session, callback),
    });
    this.server.on('error', () => undefined);

    await new Promise<void>((resolve, reject) => {
      this.server.listen(port, '127.0.0.1', () => resolve());
      this.server.server.once('error', reject);
    });
    this.server.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  /** Forgets what was received and goes back to accepting every message at once, as a new server would. */
  async reset(): Promise<void> {
    this.received.length = 0;
    this.started.length = 0;
    this.recipientReply = () => undefined;
    this.dataReply = () => undefined;
    this.beforeReply = () => undefined;
    this.delayMs = 0;
    await this.mode('accept');
  }

  /** Switches the behaviour; `refuse` stops listening, and leaving it listens again on the same port. */
  async mode(mode: SmtpMode): Promise<void> {
    const wasRefusing = this.currentMode === 'refuse';
    this.currentMode = mode;

    if (mode === 'refuse' && !wasRefusing) await this.closeListener();
    if (mode !== 'refuse' && wasRefusing) await this.start(this.port);
    if (mode !== 'stall') this.releaseStalled();
  }

  /** Messages received for one address (the envelope recipient), in the order they arrived. */
  messagesTo(address: string): ReceivedEmail[] {
    return this.received.filter((email) => email.envelopeTo.includes(address.toLowerCase()));
  }

  async stop(): Promise<void> {
    this.releaseStalled();
    await this.closeListener();
  }

  private onConnect(_session: SMTPServerSession, callback: (error?: Error) => void) {
    callback();
  }

  private onData(stream: NodeJS.ReadableStream, session: SMTPServerSession, callback: (error?: Error | null) => void) {
    const chunks: Buffer[] = [];
    let dropped = false;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (this.currentMode === 'drop') {
        dropped = true;
        for (const socket of this.sockets) socket.destroy();
        // The stream may never end now; record the passwords of what arrived.
        this.parse(Buffer.concat(chunks).toString('utf8')).catch(() => undefined);
      }
    });

    stream.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const envelopeTo = session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase());
      // Parsed whatever the reply, so that the secret scan learns the passwords of rejected messages too. The
      // reply is decided before the parse is awaited, so that parsing does not delay dataReply.
      const parsing = this.parse(raw);

      // The stream may still end after its connection was cut; such a message was never delivered.
      if (dropped) {
        await parsing;
        return callback(replyError({ code: 421, message: 'connection dropped' }));
      }

      if (this.currentMode === 'stall') {
        await parsing;
        this.stalled.push(() => callback(replyError({ code: 451, message: 'stalled message released' })));
        return;
      }
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      await this.beforeReply(envelopeTo);

      const reply = this.dataReply(envelopeTo);
      const parsed = await parsing;
      if (reply) return callback(replyError(reply));

      this.received.push({ envelopeTo, parsed, raw });
      callback(null);
    });
  }

  /** Parses a message, even a truncated one, and records its temporary passwords and tokens for the secret scan. */
  private async parse(raw: string): Promise<ParsedMail> {
    const parsed = await simpleParser(raw);
    const text = parsed.text ?? '';
    this.remember(this.passwords, [...text.matchAll(/Temporary password: (\S+)/g)].map((match) => match[1]));
    this.remember(this.tokens, [...text.matchAll(/[?&]token=([A-Za-z0-9_-]+)/g)].map((match) => match[1]));
    return parsed;
  }

  private remember(known: Set<string>, found: string[]) {
    const fresh = found.filter((secret) => !known.has(secret));
    for (const secret of fresh) known.add(secret);
    recordSecrets(fresh);
  }

  private releaseStalled() {
    const waiting = this.stalled.splice(0);
    for (const release of waiting) release();
  }

  private async closeListener() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function replyError(reply: Reply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}
