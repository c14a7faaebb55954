import type { Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.ts';
import { sessionMiddleware } from './session.ts';
import type { User } from '../../models/index.ts';

declare module 'express-session' {
  interface SessionData {
    /** The signed-in person's user id; password changes find and end a person's sessions by it. */
    userId?: string;
  }
}

/** The cookie of people's own sessions; the admin panel uses a cookie of its own. */
export const ACCOUNT_COOKIE = 'waitlist_session';

const middlewares = new WeakMap<AppContext, RequestHandler>();

/** Returns the session middleware for people's sign-ins, one per context, so every router shares one store. */
export function accountSession(context: AppContext): RequestHandler {
  let middleware = middlewares.get(context);
  if (!middleware) {
    middleware = sessionMiddleware(context, { cookieName: ACCOUNT_COOKIE });
    middlewares.set(context, middleware);
  }
  return middleware;
}

/** Returns the active user of the request's session, or undefined when the session has no signed-in user. */
export async function sessionUser(context: AppContext, request: Request): Promise<User | undefined> {
  const userId = request.session?.userId;
  if (!userId) return undefined;

  const user = await context.models.User.findByPk(userId);
  return user && user.is_active ? user : undefined;
}

/** Signs `user` in under a new session id, so that an id planted before sign-in is worthless (session fixation). */
export async function startSession(request: Request, user: User): Promise<void> {
  await new Promise<void>((resolve, reject) => request.session.regenerate((error) => (error ? reject(error) : resolve())));
  request.session.userId = String(user.id);
  await new Promise<void>((resolve, reject) => request.session.save((error) => (error ? reject(error) : resolve())));
}

/** Deletes the session row and the cookie. */
export async function endSession(request: Request, response: Response): Promise<void> {
  if (request.session) {
    await new Promise<void>((resolve, reject) => request.session.destroy((error) => (error ? reject(error) : resolve())));
  }
  response.clearCookie(ACCOUNT_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
}

/** Returns the client's address as Express reports it. With TRUST_PROXY set, it is the address the proxy saw. */
export function clientAddress(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}
