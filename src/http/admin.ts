import '../../admin/environment.ts';
import { existsSync } from 'node:fs';
import AdminJSExpress from '@adminjs/express';
import type AdminJS from 'adminjs';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import { ADMIN_ROOT, createAdminPanel } from '../../admin/admin-panel.ts';
import { adminAddressKey, staffAuthenticator } from '../../admin/authenticate.ts';
import { COMPONENTS_BUNDLE } from '../../admin/environment.ts';
import type { StaffAdmin } from '../../admin/staff-session.ts';
import type { AppContext } from '../context.ts';
import { authServiceFor } from '../auth/auth-service.ts';
import { sessionOptions } from './session.ts';

const COOKIE_NAME = 'waitlist_admin';

/**
 * Content security policy of the panel: scripts, styles, fonts and requests only from this server, so the
 * browser makes no request to any third-party host. AdminJS's pages need inline scripts and styles.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** Mounts the AdminJS panel at /admin, with sessions in PostgreSQL and staff-only sign-in. */
export function mountAdminPanel(app: Express, context: AppContext): AdminJS {
  const admin = createAdminPanel(context);
  usePrebuiltBundleInProduction(context);

  const options = sessionOptions(context, { cookieName: COOKIE_NAME, path: ADMIN_ROOT });
  const router = express.Router();
  router.use(securityHeaders);
  router.use(rejectCrossSiteApiCalls);
  // This is the session middleware that AdminJS adds below, mounted first so that the checks here can read the
  // session. express-session skips a request that already has one, so AdminJS's copy does nothing.
  router.use(session(options));
  router.use(refreshStaff(context, admin));
  router.post('/login', countSignInAttempt(context, admin));

  AdminJSExpress.buildAuthenticatedRouter(
    admin,
    { authenticate: staffAuthenticator(context), cookieName: COOKIE_NAME, cookiePassword: context.config.session.secret },
    router,
    options,
  );
  app.use(ADMIN_ROOT, router);
  return admin;
}

/**
 * In production AdminJS serves the components bundle that `npm run build` wrote, instead of bundling at start.
 * A missing bundle stops the start with the fix, rather than a panel without its pages.
 */
function usePrebuiltBundleInProduction(context: AppContext) {
  if (!context.config.production) return;
  if (!existsSync(COMPONENTS_BUNDLE)) {
    throw new Error(`The admin panel's components bundle ${COMPONENTS_BUNDLE} is missing: run "npm run build" before starting with NODE_ENV=production.`);
  }
  process.env.ADMIN_JS_SKIP_BUNDLE = 'true';
}

/** Sets the content security policy, and drops the Google Fonts stylesheet that AdminJS's pages link. */
function securityHeaders(_request: Request, response: Response, next: NextFunction) {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'same-origin');

  const send = response.send.bind(response);
  response.send = (body?: unknown) => send(typeof body === 'string' ? withoutThirdPartyFonts(body) : body);
  next();
}

/** Removes `<link>` tags to fonts.googleapis.com; the panel then uses the browser's fonts. */
export function withoutThirdPartyFonts(html: string): string {
  return html.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, '');
}

/**
 * AdminJS calls actions without a component with GET, so a cross-site request could trigger one. The session
 * cookie is SameSite=strict already; this also rejects API calls that the browser marks as cross-site.
 */
function rejectCrossSiteApiCalls(request: Request, response: Response, next: NextFunction) {
  if (request.path.startsWith('/api/') && request.get('sec-fetch-site') === 'cross-site') {
    response.status(403).json({ error: { code: 'cross_site_request', message: 'Admin API calls must come from the admin panel itself.' } });
    return;
  }
  next();
}

/**
 * Reloads the signed-in staff member on every request, so that a deactivated or demoted account loses
 * access at once and a changed superuser flag takes effect without signing in again.
 */
function refreshStaff(context: AppContext, admin: AdminJS): RequestHandler {
  return async (request, response, next) => {
    const staff = request.session.adminUser as StaffAdmin | undefined;
    // Static assets carry the cookie too, and need no account check.
    if (!staff || request.path.startsWith('/frontend/assets/')) return next();

    try {
      const user = await context.models.User.findByPk(staff.id);
      if (user && user.is_active && user.is_staff) {
        request.session.adminUser = { ...staff, email: user.email, title: user.username, isSuperuser: user.is_superuser };
        return next();
      }

      context.logger.info({ userId: staff.id }, 'admin session ended: the account is no longer active staff');
      request.session.destroy(() => response.redirect(admin.options.loginPath));
    } catch (error) {
      next(error);
    }
  };
}

/**
 * Counts each admin sign-in attempt against the client address in the shared sign-in throttle, before any
 * password is checked, and rejects it with 429 once the address went over ADMIN_SIGN_IN_MAX_FAILURES within
 * SIGN_IN_THROTTLE_WINDOW_MINUTES. A successful sign-in takes its attempt back.
 */
function countSignInAttempt(context: AppContext, admin: AdminJS): RequestHandler {
  return async (request, response, next) => {
    try {
      const verdict = await authServiceFor(context).throttle.recordAttempt([adminAddressKey(request)]);
      if (verdict.justLimited) {
        context.logger.warn({ clientAddress: request.ip, retryAfterSeconds: verdict.retryAfterSeconds }, 'admin sign-in locked for this address after repeated failures');
      }
      if (!verdict.limited) return next();

      const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
      const page = await admin.renderLogin({
        action: admin.options.loginPath,
        errorMessage: `Too many failed sign-ins from your address. Try again in ${minutes} minute(s).`,
      });
      response.status(429).set('Retry-After', String(verdict.retryAfterSeconds)).send(page);
    } catch (error) {
      next(error);
    }
  };
}

declare module 'express-session' {
  interface SessionData {
    adminUser?: StaffAdmin;
    redirectTo?: string;
  }
}
