import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { AppContext } from '../context.ts';
import { toError } from '../logger.ts';
import { AuthError } from '../auth/auth-error.ts';
import { authServiceFor } from '../auth/auth-service.ts';
import { changePassword, setPasswordWithToken } from '../auth/password-change.ts';
import { findUsableToken } from '../auth/password-tokens.ts';
import { requestPasswordReset } from '../auth/password-reset.ts';
import { signIn } from '../auth/sign-in.ts';
import type { PasswordTokenPurpose } from '../../models/password-token.ts';
import { clientAddress, endSession, sessionUser, startSession } from './account-session.ts';
import { pageRenderer, type RenderPage } from './render-page.ts';
import { rejectCrossSiteRequests } from './same-site.ts';

const TOKEN_PAGES: Record<PasswordTokenPurpose, { path: string; title: string }> = {
  set_password: { path: '/set-password', title: 'Choose your password' },
  reset_password: { path: '/reset-password', title: 'Choose a new password' },
};

/**
 * Builds the sign-in pages under /auth/: plain HTML forms that work without JavaScript, rendered from
 * views/auth. Each form posts back to its own page, and success redirects with a 303.
 * Expects the account session middleware to run before it.
 */
export function authPagesRouter(context: AppContext): Router {
  const auth = authServiceFor(context);
  const render = pageRenderer(context);
  const router = express.Router();

  router.use(express.urlencoded({ extended: false, limit: '16kb' }));
  router.use(rejectCrossSiteRequests(context, (_request, response) => {
    void render(response, 'error', { title: 'Request rejected', message: 'This form was sent from another site. Open the page here and send it again.' }, 403);
  }));

  router.get('/', (_request, response) => response.redirect(303, '/auth/login'));

  router.get('/login', page(async (request, response) => {
    const user = await sessionUser(context, request);
    if (user) return response.redirect(303, user.must_change_password ? '/auth/change-password' : '/auth/account');
    await render(response, 'login', { notice: noticeFor(request) });
  }));

  router.post('/login', page(async (request, response) => {
    const values = { login: String(request.body.login ?? '') };
    try {
      const user = await signIn(auth, { login: request.body.login, password: request.body.password, address: clientAddress(request) });
      await startSession(request, user);
      response.redirect(303, user.must_change_password ? '/auth/change-password' : '/auth/account');
    } catch (error) {
      await renderFormError(render, response, 'login', error, { values });
    }
  }));

  router.post('/logout', page(async (request, response) => {
    await endSession(request, response);
    response.redirect(303, '/auth/login?signed_out=1');
  }));

  router.get('/account', page(async (request, response) => {
    const user = await sessionUser(context, request);
    if (!user) return response.redirect(303, '/auth/login');
    if (user.must_change_password) return response.redirect(303, '/auth/change-password');
    await render(response, 'account', { user, notice: noticeFor(request) });
  }));

  router.get('/change-password', page(async (request, response) => {
    const user = await sessionUser(context, request);
    if (!user) return response.redirect(303, '/auth/login');
    await render(response, 'change-password', { required: user.must_change_password });
  }));

  router.post('/change-password', page(async (request, response) => {
    const user = await sessionUser(context, request);
    if (!user) return response.redirect(303, '/auth/login');
    try {
      assertConfirmed(request);
      const changed = await changePassword(auth, {
        userId: user.id,
        currentPassword: request.body.current_password,
        newPassword: request.body.new_password,
        sessionId: request.session.id,
        address: clientAddress(request),
      });
      await startSession(request, changed);
      response.redirect(303, '/auth/account?password_changed=1');
    } catch (error) {
      await renderFormError(render, response, 'change-password', error, { required: user.must_change_password });
    }
  }));

  router.get('/forgot-password', page(async (_request, response) => {
    await render(response, 'forgot-password', { sent: false });
  }));

  router.post('/forgot-password', page(async (request, response) => {
    const values = { email: String(request.body.email ?? '') };
    try {
      await requestPasswordReset(auth, { email: request.body.email, address: clientAddress(request) });
      await render(response, 'forgot-password', {
        sent: true,
        notice: 'If an active account uses this address, we have emailed it a link to choose a new password. Check your inbox and spam folder.',
      });
    } catch (error) {
      await renderFormError(render, response, 'forgot-password', error, { sent: false, values });
    }
  }));

  for (const purpose of ['set_password', 'reset_password'] as const) {
    router.get(TOKEN_PAGES[purpose].path, page((request, response) => showTokenForm(context, render, purpose, request, response)));
    router.post(TOKEN_PAGES[purpose].path, page((request, response) => submitTokenForm(context, render, purpose, request, response)));
  }

  router.use(pageErrorHandler(context, render));
  return router;
}

/** Shows the form for a set-password or reset link. Only reads the token: opening the link does not use it up. */
async function showTokenForm(context: AppContext, render: RenderPage, purpose: PasswordTokenPurpose, request: Request, response: Response) {
  const token = String(request.query.token ?? '');
  const view = { title: TOKEN_PAGES[purpose].title, action: `/auth${TOKEN_PAGES[purpose].path}`, token, username: null as string | null };
  try {
    const row = await findUsableToken(context, purpose, token);
    const user = await context.models.User.findByPk(row.user_id);
    await render(response, 'choose-password', { ...view, tokenValid: true, username: user?.username ?? null });
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    await render(response, 'choose-password', { ...view, tokenValid: false, formError: error.message }, error.status);
  }
}

async function submitTokenForm(context: AppContext, render: RenderPage, purpose: PasswordTokenPurpose, request: Request, response: Response) {
  const token = String(request.body.token ?? '');
  const view = { title: TOKEN_PAGES[purpose].title, action: `/auth${TOKEN_PAGES[purpose].path}`, token, username: null };
  try {
    assertConfirmed(request);
    const user = await setPasswordWithToken(authServiceFor(context), { purpose, token, newPassword: request.body.new_password });
    await startSession(request, user);
    response.redirect(303, '/auth/account?password_changed=1');
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    const tokenValid = error.code === 'invalid_input';
    await renderFormError(render, response, 'choose-password', error, { ...view, tokenValid });
  }
}

/** Checks that both new-password fields match before any work is done. */
function assertConfirmed(request: Request) {
  if (typeof request.body.new_password === 'string' && request.body.new_password !== request.body.confirm_password) {
    throw new AuthError('invalid_input', 'The two new passwords differ.', { confirm_password: 'Type the same new password in both fields.' });
  }
}

/** Renders the form again with the error: field messages next to their fields, anything else above the form. */
async function renderFormError(render: RenderPage, response: Response, view: string, thrown: unknown, data: Record<string, unknown>) {
  if (!(thrown instanceof AuthError)) throw thrown;

  if (thrown.retryAfterSeconds) response.set('Retry-After', String(thrown.retryAfterSeconds));
  const hasFields = Object.keys(thrown.fields).length > 0;
  await render(response, view, { ...data, errors: thrown.fields, formError: hasFields ? null : thrown.message }, thrown.status);
}

function noticeFor(request: Request): string | null {
  if (request.query.signed_out) return 'You are signed out.';
  if (request.query.password_changed) return 'Your new password is saved, and you are signed in.';
  return null;
}

function page(work: (request: Request, response: Response) => Promise<unknown>): RequestHandler {
  return (request, response, next) => {
    work(request, response).catch(next);
  };
}

function pageErrorHandler(context: AppContext, render: RenderPage): ErrorRequestHandler {
  return (thrown, _request, response, _next) => {
    const error = toError(thrown) as Error & { type?: string };
    const tooLarge = error.type === 'entity.too.large';
    if (!tooLarge) context.logger.error({ err: error }, 'sign-in page request failed');

    const message = tooLarge ? 'The form sent more than 16 KB.' : 'Something went wrong on our side. Try again in a moment.';
    render(response, 'error', { title: 'Something went wrong', message }, tooLarge ? 413 : 500).catch(() => response.status(500).end());
  };
}
