import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { projectRoot } from '../config.ts';
import type { AppContext } from '../context.ts';
import { toError } from '../logger.ts';
import { TemplatePair } from '../mail/render-email.ts';
import { hashPassword, verifyPassword } from '../passwords.ts';
import { normalizePassword } from './password-policy.ts';
import { SignInThrottle } from './sign-in-throttle.ts';

/** The shared parts of sign-in, built once per process: throttle, dummy hash, reset email templates, background work. */
export interface AuthService {
  context: AppContext;
  throttle: SignInThrottle;
  resetTemplate: TemplatePair;
  /**
   * Checks `candidate` against `hash`. With no hash (no such account, or no password yet) it checks against a
   * dummy hash of the same cost and returns false, so both cases take as long as a wrong password.
   */
  verifyPassword(hash: string | null | undefined, candidate: string): Promise<boolean>;
  /** Runs work after the response has gone out; failures are logged with `label`. */
  runInBackground(label: string, work: () => Promise<void>): void;
  /** Resolves once the background work started so far has finished (for shutdown and tests). */
  idle(): Promise<void>;
}

const services = new WeakMap<AppContext, AuthService>();

/**
 * Returns the context's sign-in service, building it on first use. Closing the context's database waits for
 * the service's background work (reset emails in flight) first.
 */
export function authServiceFor(context: AppContext): AuthService {
  let service = services.get(context);
  if (!service) {
    service = createAuthService(context);
    services.set(context, service);
    context.database.onClose(() => service!.idle());
  }
  return service;
}

/** Builds the sign-in service for a context; hashing the dummy password starts at once, so no request waits for it. */
export function createAuthService(context: AppContext): AuthService {
  const dummyHash = hashPassword(randomBytes(18).toString('base64url'), context.config.passwords.argon2);
  dummyHash.catch(() => undefined);
  const running = new Set<Promise<void>>();

  return {
    context,
    throttle: new SignInThrottle(context),
    resetTemplate: new TemplatePair(resetTemplateFolder(context.config.email.templateDir), 'password_reset'),

    async verifyPassword(hash, candidate) {
      const matches = await verifyCandidate(hash ?? (await dummyHash), candidate);
      return Boolean(hash) && matches;
    },

    runInBackground(label, work) {
      const task = work()
        .catch((error) => context.logger.error({ task: label, err: toError(error) }, `${label} failed`))
        .finally(() => running.delete(task));
      running.add(task);
    },

    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}

/**
 * Verifies the NFKC form of the password, and then the password as typed when that differs, so that a hash
 * made elsewhere from the unnormalized text (an admin-set password, say) still matches.
 */
async function verifyCandidate(hash: string, candidate: string): Promise<boolean> {
  const normalized = normalizePassword(candidate);
  if (await verifyPassword(hash, normalized)) return true;
  return normalized !== candidate && verifyPassword(hash, candidate);
}

/** EMAIL_TEMPLATE_DIR when it has the reset templates, else the built-in ones, so a folder with only welcome templates keeps working. */
function resetTemplateFolder(configured: string): string {
  if (existsSync(path.join(configured, 'password_reset.html.ejs'))) return configured;
  return path.join(projectRoot(), 'views', 'emails');
}
