import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import type { RequestHandler } from 'express';
import type { AppContext } from '../context.ts';
import { APPLICATION_NAME } from '../database/embedded.ts';

export interface SessionOptions {
  /** Cookie name; the admin panel and people's own sign-in use different cookies. */
  cookieName: string;
  /** Cookie path, such as `/admin`; defaults to the whole site. */
  path?: string;
}

/** Options for express-session (or AdminJS's router) with sessions kept in PostgreSQL's `http_sessions` table. */
export function sessionOptions(context: AppContext, options: SessionOptions): session.SessionOptions {
  const { config } = context;
  const PgStore = connectPgSimple(session);
  const pool = sessionPool(context);

  return {
    name: options.cookieName,
    secret: config.session.secret,
    store: new PgStore({ pool, tableName: 'http_sessions', createTableIfMissing: false, pruneSessionInterval: 15 * 60 }),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.session.trustProxy !== false,
    cookie: {
      httpOnly: true,
      sameSite: 'strict',
      // 'auto' marks the cookie secure whenever the request came over TLS (directly or, with TRUST_PROXY, via a proxy).
      secure: 'auto',
      path: options.path ?? '/',
      maxAge: config.session.ttlHours * 3600 * 1000,
    },
  };
}

/** Returns express-session middleware for the given cookie. */
export function sessionMiddleware(context: AppContext, options: SessionOptions): RequestHandler {
  return session(sessionOptions(context, options));
}

const pools = new WeakMap<AppContext, pg.Pool>();

/** Returns the small pg pool for session reads and writes of this context; it closes with the database. */
function sessionPool(context: AppContext): pg.Pool {
  let pool = pools.get(context);
  if (!pool) {
    pool = new pg.Pool({ connectionString: context.database.url, max: 4, application_name: APPLICATION_NAME });
    // When the server drops an idle connection (a restart, a failover), the pool emits 'error', and an unheard
    // 'error' event ends the process. The pool opens a new connection at the next request.
    pool.on('error', (error) => context.logger.warn({ err: error }, 'session store: an idle database connection failed'));
    pools.set(context, pool);
    context.database.onClose(() => pool!.end());
  }
  return pool;
}
