import type { AppContext } from '../context.ts';
import { displayName } from '../names.ts';
import { SOURCE_LABELS, type SubscriberSource } from '../sources.ts';
import type { WelcomeCredential } from '../welcome-credentials.ts';
import type { OutgoingEmail } from './mailer.ts';

/** The subscriber's fields that the welcome email shows. */
export interface WelcomeRecipient {
  email: string;
  name?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  source: string;
}

export interface WelcomeEmailInput {
  subscriber: WelcomeRecipient;
  user: { username: string };
  /** From `issueWelcomeCredential`: the plaintext password or link goes into the message and nowhere else. */
  credential: WelcomeCredential;
}

/** Renders the welcome email for a new account, ready for the mailer. */
export async function renderWelcomeEmail(context: AppContext, input: WelcomeEmailInput): Promise<OutgoingEmail> {
  const { config } = context;
  const { subscriber, user, credential } = input;
  // A name is one line wherever it appears: control characters and line breaks become spaces.
  const name = displayName(subscriber).replace(/[\s\u0000-\u001f\u007f]+/gu, ' ').trim();

  const rendered = await context.welcomeTemplate.render({
    displayName: name,
    email: subscriber.email,
    username: user.username,
    credentialKind: credential.kind,
    password: credential.kind === 'password' ? credential.password : null,
    setPasswordUrl: credential.kind === 'link' ? credential.url : null,
    loginUrl: `${config.email.frontendUrl}/auth/login`,
    siteName: config.email.siteName,
    year: context.now().getUTCFullYear(),
    sourceLabel: SOURCE_LABELS[subscriber.source as SubscriberSource] ?? subscriber.source,
    expiresOn: credential.expiresAt.toUTCString(),
  });

  return {
    to: { name, address: subscriber.email },
    subject: config.email.welcomeSubject.replaceAll('{site name}', config.email.siteName),
    html: rendered.html,
    text: rendered.text,
  };
}
