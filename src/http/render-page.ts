import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ejs from 'ejs';
import type { Response } from 'express';
import { projectRoot } from '../config.ts';
import type { AppContext } from '../context.ts';

type Template = (data: object) => string;

/** Renders a page from views/auth and sends it with headers that suit pages holding passwords and one-time links. */
export type RenderPage = (response: Response, view: string, data?: Record<string, unknown>, status?: number) => Promise<void>;

/**
 * Returns a renderer for the sign-in pages. Templates are compiled once, except in development, where edits show
 * on reload. Each page gets the site name, a per-response nonce for its inline styles, and `errors`/`values` defaults.
 */
export function pageRenderer(context: AppContext): RenderPage {
  const folder = path.join(projectRoot(), 'views', 'auth');
  const cache = new Map<string, Promise<Template>>();
  const reload = context.config.env === 'development';

  const load = (view: string): Promise<Template> => {
    let template = reload ? undefined : cache.get(view);
    if (!template) {
      const file = path.join(folder, `${view}.ejs`);
      template = readFile(file, 'utf8').then((source) => ejs.compile(source, { filename: file, async: false }) as Template);
      cache.set(view, template);
    }
    return template;
  };

  return async (response, view, data = {}, status = 200) => {
    const template = await load(view);
    const nonce = randomBytes(16).toString('base64');
    const html = template({ siteName: context.config.email.siteName, nonce, errors: {}, values: {}, notice: null, formError: null, ...data });

    response
      .status(status)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        // Pages show one-time links and take passwords: never cache them, and never send their URL to another site.
        // "same-origin" rather than "no-referrer", because with the latter browsers send "Origin: null" on form posts.
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'same-origin',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
        'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      })
      .send(html);
  };
}
