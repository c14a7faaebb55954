import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ejs from 'ejs';

/** Values the welcome email templates may use. The HTML template escapes each one with `<%= %>`. */
export interface WelcomeEmailData {
  displayName: string;
  email: string;
  username: string;
  /** `password` or `link`, from WELCOME_CREDENTIAL. */
  credentialKind: 'password' | 'link';
  /** The temporary password; null in link mode. */
  password: string | null;
  /** The one-time link to set a password; null in password mode. */
  setPasswordUrl: string | null;
  loginUrl: string;
  siteName: string;
  year: number;
  sourceLabel: string;
  /** When the temporary password or the link expires, as a UTC date. */
  expiresOn: string;
}

export interface RenderedEmail {
  html: string;
  text: string;
}

type Template = (data: object) => string;

/** Loads an HTML and text template pair once and renders it for each message. */
export class TemplatePair {
  private templates?: Promise<{ html: Template; text: Template }>;

  constructor(
    private readonly folder: string,
    private readonly name: string,
  ) {}

  async render(data: object): Promise<RenderedEmail> {
    this.templates ??= this.load();
    const { html, text } = await this.templates;
    return { html: html(data), text: text(data) };
  }

  private async load() {
    const compile = async (extension: string) => {
      const file = path.join(this.folder, `${this.name}.${extension}.ejs`);
      const source = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(`Email template ${file} could not be read (${error.code}): check EMAIL_TEMPLATE_DIR`);
      });
      return ejs.compile(source, { filename: file, async: false }) as Template;
    };

    const [html, text] = await Promise.all([compile('html'), compile('txt')]);
    return { html, text };
  }
}
