import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { AppContext } from '../context.ts';
import { toError } from '../logger.ts';
import { AuthError } from '../auth/auth-error.ts';
import { authServiceFor } from '../auth/auth-service.ts';
import { changePassword, setPasswordWithToken } from '../auth/password-change.ts';
import { requestPasswordReset } from '../auth/password-reset.ts';
import { publicUser, signIn } from '../auth/sign-in.ts';
import type { PasswordTokenPurpose } from '../../models/password-token.ts';
import { clientAddress, endSession, sessionUser, startSession } from './account-session.ts';
import { rejectCrossSiteRequests } from './same-site.ts';

/**
 * Builds the JSON API under /api/auth/ for operators with a front end of their own. Errors come as
 * `{ error: { code, message, fields } }` with the codes listed in src/auth/auth-error.ts.
 * Expects the account session middleware to run before it.
 */
export function authApiRouter(context: AppContext): Router {
  const auth = authServiceFor(context);
  const router = express.Router();

  router.use(express.json({ limit: '16kb' }));
  router.use(rejectCrossSiteRequests(context, (_request, response) => {
    sendError(response, new AuthError('cross_site_request', 'Requests from other sites are not accepted. Call the API from the same site as this service.'));
  }));
  router.use(requireJsonBody);

  router.post('/login', handle(async (request, response) => {
    const user = await signIn(auth, { login: request.body.login, password: request.body.password, address: clientAddress(request) });
    await startSession(request, user);
    response.json({ user: publicUser(user), must_change_password: user.must_change_password });
  }));

  router.post('/logout', handle(async (request, response) => {
    await endSession(request, response);
    response.status(204).end();
  }));

  router.get('/me', requireAccount(context), (_request, response) => {
    response.json({ user: publicUser(response.locals.user) });
  });

  router.post('/change-password', handle(async (request, response) => {
    const user = await signedInUser(context, request, { allowPasswordChange: true });
    const changed = await changePassword(auth, {
      userId: user.id,
      currentPassword: request.body.current_password,
      newPassword: request.body.new_password,
      sessionId: request.session.id,
      address: clientAddress(request),
    });
    await startSession(request, changed);
    response.json({ user: publicUser(changed) });
  }));

  router.post('/forgot-password', handle(async (request, response) => {
    await requestPasswordReset(auth, { email: request.body.email, address: clientAddress(request) });
    response.status(202).json({
      message: 'If an active account uses this address, a link to choose a new password is on its way. Check your inbox and spam folder.',
    });
  }));

  router.post('/reset-password', handle(tokenHandler(context, 'reset_password')));
  router.post('/set-password', handle(tokenHandler(context, 'set_password')));

  router.use((_request, response) => {
    response.status(404).json({ error: { code: 'not_found', message: 'No such sign-in API endpoint. See /api/auth/login, logout, me, change-password, forgot-password, reset-password and set-password.', fields: {} } });
  });
  router.use(apiErrorHandler(context));
  return router;
}

function tokenHandler(context: AppContext, purpose: PasswordTokenPurpose): (request: Request, response: Response) => Promise<void> {
  return async (request, response) => {
    const user = await setPasswordWithToken(authServiceFor(context), { purpose, token: request.body.token, newPassword: request.body.new_password });
    await startSession(request, user);
    response.json({ user: publicUser(user) });
  };
}

/**
 * Builds middleware for API routes that need a signed-in person whose password change is done: it puts the user
 * in `response.locals.user`, or responds with 401 `not_signed_in` or 403 `password_change_required`.
 * The account session middleware must run before it.
 */
export function requireAccount(context: AppContext): RequestHandler {
  return (request, response, next) => {
    signedInUser(context, request, { allowPasswordChange: false }).then(
      (user) => {
        response.locals.user = user;
        next();
      },
      (error) => (error instanceof AuthError ? sendError(response, error) : next(error)),
    );
  };
}

/**
 * Returns the signed-in user, or throws `not_signed_in`; while a password change is required it throws
 * `password_change_required`, unless the call is the change itself.
 */
async function signedInUser(context: AppContext, request: Request, options: { allowPasswordChange: boolean }) {
  const user = await sessionUser(context, request);
  if (!user) throw new AuthError('not_signed_in', 'You are not signed in. Sign in with POST /api/auth/login.');
  if (user.must_change_password && !options.allowPasswordChange) {
    throw new AuthError('password_change_required', 'Choose a new password first, with POST /api/auth/change-password.');
  }
  return user;
}

/**
 * Rejects POST bodies that are not JSON (an empty body, as for logout, passes). HTML forms on another site cannot
 * send JSON without a CORS preflight, which this API never grants.
 */
const requireJsonBody: RequestHandler = (request, response, next) => {
  const empty = request.get('content-length') === '0' || !request.is('*/*');
  if (request.method !== 'POST' || empty || request.is('application/json')) return next();
  response.status(415).json({
    error: { code: 'unsupported_media_type', message: 'Send the body as JSON with the header "Content-Type: application/json".', fields: {} },
  });
};

function handle(work: (request: Request, response: Response) => Promise<void>): RequestHandler {
  return (request, response, next) => {
    work(request, response).catch(next);
  };
}

function sendError(response: Response, error: AuthError) {
  if (error.retryAfterSeconds) response.set('Retry-After', String(error.retryAfterSeconds));
  response.status(error.status).json({ error: { code: error.code, message: error.message, fields: error.fields } });
}

function apiErrorHandler(context: AppContext): ErrorRequestHandler {
  return (thrown, _request, response, _next) => {
    if (thrown instanceof AuthError) return sendError(response, thrown);

    const error = toError(thrown) as Error & { type?: string; status?: number };
    if (error.type === 'entity.parse.failed') {
      return response.status(400).json({ error: { code: 'invalid_json', message: 'The body is not valid JSON.', fields: {} } });
    }
    if (error.type === 'entity.too.large') {
      return response.status(413).json({ error: { code: 'body_too_large', message: 'The body is larger than 16 KB.', fields: {} } });
    }

    context.logger.error({ err: error }, 'sign-in API request failed');
    response.status(500).json({ error: { code: 'internal_error', message: 'Something went wrong on our side. Try again in a moment.', fields: {} } });
  };
}
