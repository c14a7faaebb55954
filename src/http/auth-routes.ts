import express, { type Router } from 'express';
import type { AppContext } from '../context.ts';
import { accountSession } from './account-session.ts';
import { authApiRouter } from './auth-api.ts';
import { authPagesRouter } from './auth-pages.ts';

/**
 * People's sign-in: the pages under /auth/ and the JSON API under /api/auth/, both on the `waitlist_session`
 * cookie. Mount with `app.use(authRoutes(context))`.
 */
export function authRoutes(context: AppContext): Router {
  const router = express.Router();
  const session = accountSession(context);

  router.use('/api/auth', session, authApiRouter(context));
  router.use('/auth', session, authPagesRouter(context));
  return router;
}
