import type { Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.ts';

/**
 * Rejects state-changing requests that a browser sent from another site (cross-site request forgery), using the
 * `Origin` and `Sec-Fetch-Site` headers that browsers add. The session cookie is `SameSite=Strict` as well;
 * this also stops forged sign-ins, which need no cookie. Requests without these headers (curl, servers) pass.
 * `reject` writes the refusal in the caller's format (JSON or a page).
 */
export function rejectCrossSiteRequests(context: AppContext, reject: (request: Request, response: Response) => void): RequestHandler {
  const frontendOrigin = new URL(context.config.email.frontendUrl).origin;

  return (request, response, next) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return next();

    const origin = request.get('origin');
    const fetchSite = request.get('sec-fetch-site');
    const allowed = origin ? origin === frontendOrigin || originHost(origin) === request.get('host') : fetchSite !== 'cross-site';
    if (allowed) return next();

    reject(request, response);
  };
}

/** The host (with port) of an Origin header; compared without the scheme, which a TLS-terminating proxy hides. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
