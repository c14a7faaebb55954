import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import { projectRoot } from '../config.ts';
import type { AppContext } from '../context.ts';
import { SOURCE_LABELS, DEFAULT_SOURCE } from '../sources.ts';
import type { FieldErrors } from '../subscriber-input.ts';
import { PHONE_EXAMPLE } from '../subscriber-input.ts';

/** Name of the hidden field that people never see and bots fill in; a filled one drops the signup silently. */
export const HONEYPOT_FIELD = 'url';

const PAGES_DIR = path.join(projectRoot(), 'views', 'join');

const SOURCES = Object.entries(SOURCE_LABELS).map(([value, label]) => ({ value, label }));

/** The state the join page shows again after a failed post: the text as sent, the reasons, or one page-wide message. */
export interface JoinPageState {
  values?: Record<string, unknown>;
  errors?: FieldErrors;
  pageError?: string;
}

/** Renders the hosted signup form, with the values and messages of a failed attempt when there was one. */
export async function renderJoinPage(context: AppContext, response: Response, status: number, state: JoinPageState = {}): Promise<void> {
  const html = await ejs.renderFile(
    path.join(PAGES_DIR, 'join.ejs'),
    {
      siteName: context.config.email.siteName,
      actionUrl: '/api/waitlist',
      values: formValues(state.values),
      errors: state.errors ?? {},
      pageError: state.pageError,
      sources: SOURCES,
      honeypotField: HONEYPOT_FIELD,
      phoneHint: context.config.subscriberInput.phoneCountry
        ? `For example ${PHONE_EXAMPLE}`
        : `Start with + and the country code, for example ${PHONE_EXAMPLE}`,
    },
    { cache: context.config.production },
  );
  response.status(status).type('html').send(html);
}

/** Renders the page people see after joining, whether they were new or already on the list. */
export async function renderThanksPage(context: AppContext, response: Response): Promise<void> {
  const html = await ejs.renderFile(path.join(PAGES_DIR, 'thanks.ejs'), { siteName: context.config.email.siteName }, { cache: context.config.production });
  response.type('html').send(html);
}

export function sendJoinStylesheet(_request: Request, response: Response): void {
  response.sendFile(path.join(PAGES_DIR, 'join.css'), { maxAge: '1h' });
}

/** Keeps only text values, so that a re-rendered form shows exactly what the person typed and nothing else. */
function formValues(values: Record<string, unknown> = {}): Record<string, string> {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    email: text(values.email),
    name: text(values.name),
    phone_number: text(values.phone_number),
    source: text(values.source) || DEFAULT_SOURCE,
  };
}
