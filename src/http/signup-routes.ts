import cors from 'cors';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { addSubscriber } from '../add-subscriber.ts';
import type { AppContext } from '../context.ts';
import { toError } from '../logger.ts';
import { parseSubscriberInput, type SubscriberInput } from '../subscriber-input.ts';
import { errorBody, toApiError, type ApiError } from './api-errors.ts';
import { HONEYPOT_FIELD, renderJoinPage, renderThanksPage, sendJoinStylesheet } from './join-pages.ts';

const API_PATH = '/api/waitlist';
const ACCEPTED_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/**
 * Routes for joining the waitlist: `POST /api/waitlist` (JSON or a plain HTML form), the hosted form at
 * `GET /join` and its thank-you page. Security headers (helmet) cover these paths only, because the admin
 * panel needs its own content security policy.
 */
export function createSignupRouter(context: AppContext): Router {
  const router = express.Router();
  const { signup } = context.config;

  router.use([API_PATH, '/join'], helmet(helmetOptions(context)));
  router.use(API_PATH, cors({ origin: [...signup.allowedOrigins], methods: ['POST'], allowedHeaders: ['Content-Type', 'Accept'], maxAge: 600 }));

  router.post(
    API_PATH,
    ...(signup.rateLimitPerMinute > 0 ? [signupRateLimit(context)] : []),
    requireAcceptedType(context),
    express.json({ limit: signup.maxBodyBytes, type: 'application/json' }),
    express.urlencoded({ extended: false, limit: signup.maxBodyBytes, parameterLimit: 20, type: 'application/x-www-form-urlencoded' }),
    (request, response, next) => handleSignup(context, request, response).catch(next),
  );
  router.all(API_PATH, (request, response) => {
    response.set('Allow', 'POST, OPTIONS');
    sendError(context, request, response, { status: 405, code: 'method_not_allowed', message: `${request.method} is not supported here; send a POST.` });
  });
  router.use(API_PATH, (error: unknown, request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    const apiError = toApiError(error, signup.maxBodyBytes);
    if (apiError.isServerFault) context.logger.error({ code: apiError.code, err: toError(error) }, 'signup failed');
    sendError(context, request, response, apiError);
  });

  router.get('/join', (_request, response, next) => renderJoinPage(context, response, 200).catch(next));
  router.get('/join/thanks', (_request, response, next) => renderThanksPage(context, response).catch(next));
  router.get('/join/join.css', sendJoinStylesheet);

  return router;
}

/** Validates the fields, drops honeypot posts, inserts unless the address is on the list, and responds. */
async function handleSignup(context: AppContext, request: Request, response: Response): Promise<void> {
  const body: unknown = request.body;
  if (!isFieldMap(body)) {
    return sendError(context, request, response, {
      status: 400,
      code: 'invalid_body',
      message: 'Send a JSON object with email and optionally name, phone_number and source, such as {"email": "ada@example.com"}.',
    });
  }

  const parsed = parseSubscriberInput(body, { phoneCountry: context.config.subscriberInput.phoneCountry });
  if (!parsed.ok) {
    const message = `Some fields are invalid: ${Object.keys(parsed.errors).join(', ')}. See fields for the reason and the fix.`;
    return sendError(context, request, response, { status: 400, code: 'invalid_input', message, fields: parsed.errors }, body);
  }

  // A bot that filled the hidden field gets the response a new signup gets, so it cannot tell it was dropped.
  if (isFilled(body[HONEYPOT_FIELD])) {
    context.logger.debug('signup dropped: the honeypot field was filled');
    return sendSuccess(context, request, response, parsed.value, true);
  }

  const id = await addSubscriber(context, { ...parsed.value, created_at: context.now() });
  if (id) context.logger.debug({ subscriberId: id }, 'subscriber joined');
  sendSuccess(context, request, response, parsed.value, id !== undefined);
}

/**
 * Responds 201 for a new subscriber and 200 for an address already on the list, with the same body built
 * from this request alone, so nothing stored about the earlier signup shows. Browsers posting a form go to
 * the thank-you page instead.
 */
function sendSuccess(context: AppContext, request: Request, response: Response, subscriber: SubscriberInput, created: boolean): void {
  response.set('Cache-Control', 'no-store');
  if (wantsHtml(request)) {
    response.redirect(303, context.config.signup.thankYouUrl);
    return;
  }

  const { email, name, phone_number, source } = subscriber;
  response.status(created ? 201 : 200).json({ subscriber: { email, name, phone_number, source } });
}

/** Responds with the JSON error body, or for a browser's form post with the join page showing the messages. */
function sendError(context: AppContext, request: Request, response: Response, error: ApiError, values?: Record<string, unknown>): void {
  response.set('Cache-Control', 'no-store');
  if (!wantsHtml(request)) {
    response.status(error.status).json(errorBody(error));
    return;
  }

  const state = error.fields ? { values, errors: error.fields } : { values, pageError: error.message };
  renderJoinPage(context, response, error.status, state).catch((renderError) => {
    context.logger.error({ err: toError(renderError) }, 'rendering the join page failed');
    if (!response.headersSent) response.status(error.status).json(errorBody(error));
  });
}

function requireAcceptedType(context: AppContext) {
  return (request: Request, response: Response, next: NextFunction) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ACCEPTED_TYPES.includes(type)) return next();

    sendError(context, request, response, {
      status: 415,
      code: 'unsupported_media_type',
      message: `Send the signup as application/json or as a plain HTML form (application/x-www-form-urlencoded), not ${type ? `"${type.slice(0, 100)}"` : 'a body without a Content-Type'}.`,
    });
  };
}

// NOTE: the counts live in this process's memory, so each web process allows the full limit on its own.
function signupRateLimit(context: AppContext) {
  return rateLimit({
    windowMs: 60_000,
    limit: context.config.signup.rateLimitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Configuration warnings, such as a TRUST_PROXY that lets clients choose their own address, go to the service log.
    logger: context.logger,
    handler: (request, response) => {
      context.logger.warn({ ip: request.ip }, 'signup rate limit reached');
      sendError(context, request, response, {
        status: 429,
        code: 'rate_limited',
        message: 'Too many signups from your network in the last minute; wait a minute and try again.',
      });
    },
  });
}

function helmetOptions(context: AppContext): Parameters<typeof helmet>[0] {
  // Chromium applies form-action to the redirect after a form post too, so the thank-you page's origin is allowed.
  const thankYou = context.config.signup.thankYouUrl;
  const formTargets = thankYou.startsWith('/') ? ["'self'"] : ["'self'", new URL(thankYou).origin];

  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: formTargets,
        frameAncestors: ["'self'"],
        baseUri: ["'none'"],
      },
    },
  };
}

// A browser's form post prefers HTML; fetch() and API clients send Accept: */* or application/json and get JSON.
function wantsHtml(request: Request): boolean {
  return request.accepts(['json', 'html']) === 'html';
}

function isFieldMap(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

function isFilled(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  return typeof value !== 'string' || value.trim() !== '';
}
