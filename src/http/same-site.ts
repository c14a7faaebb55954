import type { Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.ts';

/**
 * Rejects state-changing requests that a browser sent from another site (cross-site request forgery), using the
 * `Sec-Fetch-Site` and `Origin` headers that browsers add. The session cookie is `SameSite=Strict` as well;
 * this also stops forged sign-ins, which need no cookie. Requests with neither header (curl, servers) pass, and
 * so do requests from FRONTEND_URL's origin. `reject` writes the rejection in the caller's format (JSON or a page).
 */
export function rejectCrossSiteRequests(context: AppContext, reject: (request: Request, response: Response) => void): RequestHandler {
  const frontendOrigin = new URL(context.config.email.frontendUrl).origin;

  return (request, response, next) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return next();

    // Browsers set Sec-Fetch-Site themselves, and pages cannot forge it: "none" is a person typing or bookmarking.
    const fetchSite = request.get('sec-fetch-site');
    if (fetchSite === 'same-origin' || fetchSite === 'none') return next();

    // Older browsers send only Origin, which is "null" from pages that withhold referrers.
    const origin = request.get('origin');
    if (origin === undefined && fetchSite === undefined) return next();
    if (origin && origin !== 'null' && (origin === frontendOrigin || originHost(origin) === request.get('host'))) return next();

    reject(request, response);
  };
}

/** Returns the host (with port) of an Origin header. The scheme is left out because a TLS-terminating proxy hides it. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
