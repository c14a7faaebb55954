import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parsePhoneCountry } from './subscriber-input.ts';

/** Every setting of the service, read once from the environment at start-up and then frozen. */
export type Config = Readonly<ReturnType<typeof buildConfig>>;

/** Argon2id cost that production may not go below (OWASP's minimum for argon2id, 2023). */
export const ARGON2_FLOOR = { memoryKib: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_TEMP_PASSWORD_LENGTH = 12;

/** Minimum length of METRICS_TOKEN, so that the token cannot be guessed in a few tries. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

/** The value .env.example shows for SESSION_SECRET; production refuses to start with it. */
export const EXAMPLE_SESSION_SECRET = 'change-me-to-a-long-random-string';

// Signs session cookies in development and tests only: production refuses to start without SESSION_SECRET.
const DEVELOPMENT_SESSION_SECRET = 'development-only-session-secret-not-for-production';

export class ConfigError extends Error {
  readonly code = 'invalid_config';

  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const boolean = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return fallback;
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      context.addIssue({ code: 'custom', message: `expected true or false, got "${value}"` });
      return z.NEVER;
    });

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        context.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const decimal = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
        context.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

/** A whole number from `min` to `max`, or undefined when the variable is unset or empty. */
const optionalInteger = (min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return undefined;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        context.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, or empty, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const url = (what: string) =>
  optionalText.refine((value) => value === undefined || URL.canParse(value), {
    message: `expected an absolute URL such as ${what}`,
  });

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: url('postgres://user:password@host:5432/waitlist'),
  DATABASE_POOL_MAX: integer(10, 2, 200),
  DATA_DIR: z.string().trim().default('.data'),
  HOST: optionalText,
  PORT: integer(3000, 0, 65535),

  PROCESSOR_ENABLED: boolean(true),
  PROCESSOR_INTERVAL_SECONDS: integer(60, 1, 86400),
  PROCESSOR_BATCH_SIZE: integer(10, 1, 10000),
  PROCESSOR_CONCURRENCY: integer(4, 1, 64),
  PROCESSOR_MAX_ATTEMPTS: integer(5, 1, 100),
  PROCESSOR_RETRY_BASE_SECONDS: integer(60, 0, 86400),
  PROCESSOR_RETRY_MAX_SECONDS: integer(6 * 3600, 0, 30 * 86400),

  EMAIL_HOST: optionalText,
  EMAIL_PORT: integer(0, 0, 65535),
  EMAIL_USE_TLS: boolean(false),
  EMAIL_USE_SSL: boolean(false),
  EMAIL_HOST_USER: optionalText,
  EMAIL_HOST_PASSWORD: optionalText,
  EMAIL_TIMEOUT_SECONDS: integer(30, 1, 600),
  EMAIL_POOL_SIZE: integer(2, 1, 50),
  EMAIL_RATE_LIMIT_PER_SECOND: decimal(0, 0, 10000),
  EMAIL_TEMPLATE_DIR: optionalText,
  EMAIL_ALLOW_OUTBOX: boolean(false),
  DEFAULT_FROM_EMAIL: z.string().trim().default('Waitlist <no-reply@localhost>'),
  WELCOME_EMAIL_SUBJECT: z.string().trim().default('Welcome to {site name} - your account is ready!'),
  FRONTEND_URL: url('https://app.example.com'),
  SITE_NAME: z.string().trim().min(1).default('Waitlist'),

  TEMP_PASSWORD_LENGTH: integer(12, MIN_TEMP_PASSWORD_LENGTH, 128),
  TEMP_PASSWORD_TTL_HOURS: integer(168, 1, 24 * 365),
  ARGON2_MEMORY_KIB: integer(ARGON2_FLOOR.memoryKib, 1024, 4 * 1024 * 1024),
  ARGON2_TIME_COST: integer(ARGON2_FLOOR.timeCost, 1, 100),
  ARGON2_PARALLELISM: integer(ARGON2_FLOOR.parallelism, 1, 16),

  WELCOME_CREDENTIAL: z
    .string()
    .trim()
    .toLowerCase()
    .default('password')
    .pipe(z.enum(['password', 'link'])),
  WELCOME_LINK_TTL_HOURS: integer(72, 1, 24 * 30),
  RESET_LINK_TTL_MINUTES: integer(60, 5, 24 * 60),
  RESET_EMAIL_SUBJECT: z.string().trim().default('Reset your {site name} password'),
  SIGN_IN_THROTTLE_WINDOW_MINUTES: integer(15, 1, 24 * 60),
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT: integer(10, 1, 1000),
  SIGN_IN_MAX_FAILURES_PER_ADDRESS: integer(100, 1, 100000),

  SESSION_SECRET: optionalText,
  SESSION_TTL_HOURS: integer(12, 1, 24 * 90),
  TRUST_PROXY: optionalText,
  ADMIN_SIGN_IN_MAX_FAILURES: integer(5, 1, 1000),
  ADMIN_EXACT_COUNT_LIMIT: integer(100_000, 0, 1_000_000_000),

  SIGNUP_ALLOWED_ORIGINS: optionalText.transform((value, context) => parseOrigins(value, context)),
  SIGNUP_THANK_YOU_URL: optionalText.refine((value) => value === undefined || value.startsWith('/') || URL.canParse(value), {
    message: 'expected an absolute URL such as https://www.example.com/thanks, or a path on this site such as /join/thanks',
  }),
  SIGNUP_RATE_LIMIT_PER_MINUTE: integer(20, 0, 1_000_000),
  SIGNUP_MAX_BODY_BYTES: integer(8192, 1024, 1024 * 1024),
  PHONE_DEFAULT_COUNTRY: optionalText.transform((value, context) => {
    const parsed = parsePhoneCountry(value);
    if (parsed.ok) return parsed.value;
    context.addIssue({ code: 'custom', message: parsed.reason });
    return z.NEVER;
  }),

  LOG_FILE: z.string().trim().default('waitlist_processor.log'),
  LOG_FILE_MAX_SIZE_MB: integer(10, 1, 10240),
  LOG_FILE_MAX_FILES: integer(5, 1, 100),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .default('info')
    .pipe(z.enum(['debug', 'info', 'warn', 'error', 'silent'])),

  METRICS_TOKEN: optionalText,
  METRICS_PORT: optionalInteger(1, 65535),
  METRICS_HOST: optionalText,
});

const FIXES: Record<string, string> = {
  DATABASE_URL: 'unset it to use the embedded PostgreSQL',
  LOG_LEVEL: 'use debug, info, warn, error or silent',
  NODE_ENV: 'use development, production or test',
  WELCOME_CREDENTIAL: 'use password (a temporary password in the welcome email) or link (a one-time link to set a password)',
};

/** Reads `.env` when present, validates the environment and returns the frozen configuration. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  if (environment === process.env && existsSync(envFile)) {
    process.loadEnvFile(envFile);
  }

  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0]);
        const fix = FIXES[variable] ? ` (${FIXES[variable]})` : '';
        return `${variable}: ${issue.message}${fix}`;
      }),
    );
  }

  const config = buildConfig(parsed.data);
  const problems = checkConsistency(config);
  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze(config);
}

type Environment = z.infer<typeof environmentSchema>;

function buildConfig(env: Environment) {
  const dataDir = path.resolve(env.DATA_DIR);
  const production = env.NODE_ENV === 'production';
  const smtpPort = env.EMAIL_PORT || (env.EMAIL_USE_SSL ? 465 : 587);
  const publicUrl = `http://localhost:${env.PORT}`;
  const host = env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1');

  return {
    env: env.NODE_ENV,
    production,
    dataDir,
    database: {
      url: env.DATABASE_URL,
      embeddedDir: path.join(dataDir, 'postgres'),
      poolMax: env.DATABASE_POOL_MAX,
    },
    http: {
      host,
      port: env.PORT,
    },
    processor: {
      enabled: env.PROCESSOR_ENABLED,
      intervalSeconds: env.PROCESSOR_INTERVAL_SECONDS,
      batchSize: env.PROCESSOR_BATCH_SIZE,
      concurrency: env.PROCESSOR_CONCURRENCY,
      maxAttempts: env.PROCESSOR_MAX_ATTEMPTS,
      retryBaseSeconds: env.PROCESSOR_RETRY_BASE_SECONDS,
      retryMaxSeconds: env.PROCESSOR_RETRY_MAX_SECONDS,
    },
    email: {
      smtp: env.EMAIL_HOST
        ? {
            host: env.EMAIL_HOST,
            port: smtpPort,
            startTls: env.EMAIL_USE_TLS,
            implicitTls: env.EMAIL_USE_SSL,
            user: env.EMAIL_HOST_USER,
            password: env.EMAIL_HOST_PASSWORD,
            poolSize: env.EMAIL_POOL_SIZE,
          }
        : undefined,
      outboxDir: path.join(dataDir, 'outbox'),
      timeoutMs: env.EMAIL_TIMEOUT_SECONDS * 1000,
      ratePerSecond: env.EMAIL_RATE_LIMIT_PER_SECOND,
      templateDir: path.resolve(env.EMAIL_TEMPLATE_DIR ?? path.join(projectRoot(), 'views', 'emails')),
      from: env.DEFAULT_FROM_EMAIL,
      welcomeSubject: env.WELCOME_EMAIL_SUBJECT,
      frontendUrl: (env.FRONTEND_URL ?? publicUrl).replace(/\/+$/, ''),
      siteName: env.SITE_NAME,
      /** Production sends through SMTP only, unless the operator chose the outbox on purpose. */
      allowOutbox: env.EMAIL_ALLOW_OUTBOX,
    },
    passwords: {
      length: env.TEMP_PASSWORD_LENGTH,
      ttlHours: env.TEMP_PASSWORD_TTL_HOURS,
      argon2: {
        memoryKib: env.ARGON2_MEMORY_KIB,
        timeCost: env.ARGON2_TIME_COST,
        parallelism: env.ARGON2_PARALLELISM,
      },
    },
    auth: {
      welcomeCredential: env.WELCOME_CREDENTIAL,
      welcomeLinkTtlHours: env.WELCOME_LINK_TTL_HOURS,
      resetLinkTtlMinutes: env.RESET_LINK_TTL_MINUTES,
      resetSubject: env.RESET_EMAIL_SUBJECT,
      throttle: {
        windowMinutes: env.SIGN_IN_THROTTLE_WINDOW_MINUTES,
        maxFailuresPerAccount: env.SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
        maxFailuresPerAddress: env.SIGN_IN_MAX_FAILURES_PER_ADDRESS,
      },
    },
    session: {
      secret: env.SESSION_SECRET ?? DEVELOPMENT_SESSION_SECRET,
      secretIsSet: env.SESSION_SECRET !== undefined && env.SESSION_SECRET !== EXAMPLE_SESSION_SECRET,
      ttlHours: env.SESSION_TTL_HOURS,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
    },
    admin: {
      signInMaxFailures: env.ADMIN_SIGN_IN_MAX_FAILURES,
      /** Subscribers (PostgreSQL's estimate) up to which the dashboard counts exactly; above it, it shows estimates. */
      exactCountLimit: env.ADMIN_EXACT_COUNT_LIMIT,
    },
    signup: {
      /** Origins whose scripts may call the signup API (CORS); plain form posts work from any site. */
      allowedOrigins: env.SIGNUP_ALLOWED_ORIGINS,
      thankYouUrl: env.SIGNUP_THANK_YOU_URL ?? '/join/thanks',
      /** Signup requests per minute from one client address; 0 turns the limit off. */
      rateLimitPerMinute: env.SIGNUP_RATE_LIMIT_PER_MINUTE,
      maxBodyBytes: env.SIGNUP_MAX_BODY_BYTES,
    },
    subscriberInput: {
      phoneCountry: env.PHONE_DEFAULT_COUNTRY,
    },
    log: {
      file: env.LOG_FILE === '' ? undefined : path.resolve(env.LOG_FILE),
      level: env.LOG_LEVEL,
      maxSizeMb: env.LOG_FILE_MAX_SIZE_MB,
      maxFiles: env.LOG_FILE_MAX_FILES,
    },
    metrics: {
      /** Bearer token that /metrics requires; without one, the web app's port does not serve /metrics. */
      token: env.METRICS_TOKEN,
      /** Port of a listener that serves only /metrics and /healthz; undefined: no such listener. */
      port: env.METRICS_PORT,
      host: env.METRICS_HOST ?? host,
    },
  };
}

function checkConsistency(config: ReturnType<typeof buildConfig>): string[] {
  const problems: string[] = [];
  const smtp = config.email.smtp;

  if (smtp?.startTls && smtp.implicitTls) {
    problems.push(
      'EMAIL_USE_TLS and EMAIL_USE_SSL are both true: set only one. EMAIL_USE_TLS (STARTTLS) goes with port 587, EMAIL_USE_SSL (implicit TLS) with port 465',
    );
  } else if (smtp?.implicitTls && smtp.port === 587) {
    problems.push('EMAIL_USE_SSL (implicit TLS) is set with EMAIL_PORT=587: port 587 expects STARTTLS, so use EMAIL_USE_TLS, or set EMAIL_PORT=465');
  } else if (smtp?.startTls && smtp.port === 465) {
    problems.push('EMAIL_USE_TLS (STARTTLS) is set with EMAIL_PORT=465: port 465 expects implicit TLS, so use EMAIL_USE_SSL, or set EMAIL_PORT=587');
  }

  if (smtp && Boolean(smtp.user) !== Boolean(smtp.password)) {
    problems.push('EMAIL_HOST_USER and EMAIL_HOST_PASSWORD must be set together, or both left empty for a server without authentication');
  }

  const argon2 = config.passwords.argon2;
  const belowFloor =
    argon2.memoryKib < ARGON2_FLOOR.memoryKib || argon2.timeCost < ARGON2_FLOOR.timeCost;
  if (config.production && belowFloor) {
    problems.push(
      `ARGON2_MEMORY_KIB and ARGON2_TIME_COST may not go below ${ARGON2_FLOOR.memoryKib} and ${ARGON2_FLOOR.timeCost} in production: unset them to use the defaults`,
    );
  }

  if (config.production && !config.session.secretIsSet) {
    problems.push(
      'SESSION_SECRET is missing or still the example value, and NODE_ENV=production: set it to a long random string, for example the output of "openssl rand -hex 32"',
    );
  }
  if (config.session.secretIsSet && config.session.secret.length < 32) {
    problems.push('SESSION_SECRET is shorter than 32 characters: use a long random string, for example the output of "openssl rand -hex 32"');
  }

  if (config.processor.retryMaxSeconds < config.processor.retryBaseSeconds) {
    problems.push('PROCESSOR_RETRY_MAX_SECONDS must be at least PROCESSOR_RETRY_BASE_SECONDS');
  }

  problems.push(...checkProductionDependencies(config), ...checkMetrics(config));
  return problems;
}

/** Production needs a real database and a real SMTP server: the embedded PostgreSQL and the outbox are for development. */
function checkProductionDependencies(config: ReturnType<typeof buildConfig>): string[] {
  if (!config.production) return [];
  const problems: string[] = [];

  if (!config.database.url) {
    problems.push(
      'DATABASE_URL is missing, and NODE_ENV=production: set it to your PostgreSQL server, such as postgres://waitlist:password@db.example.com:5432/waitlist (the embedded PostgreSQL is for development only)',
    );
  }
  if (!config.email.smtp && !config.email.allowOutbox) {
    problems.push(
      'EMAIL_HOST is missing, and NODE_ENV=production: set EMAIL_HOST (with EMAIL_PORT, EMAIL_USE_TLS or EMAIL_USE_SSL, and the credentials) to your SMTP provider, or set EMAIL_ALLOW_OUTBOX=true to save welcome emails as files in DATA_DIR/outbox instead of sending them',
    );
  }

  return problems;
}

function checkMetrics(config: ReturnType<typeof buildConfig>): string[] {
  const problems: string[] = [];
  const { token, port } = config.metrics;

  if (token !== undefined && token.length < MIN_METRICS_TOKEN_LENGTH) {
    problems.push(`METRICS_TOKEN is shorter than ${MIN_METRICS_TOKEN_LENGTH} characters: use a long random string, for example the output of "openssl rand -hex 32"`);
  }
  if (port !== undefined && port === config.http.port) {
    problems.push(`METRICS_PORT and PORT are both ${port}: give the metrics listener a port of its own, or leave METRICS_PORT empty and set METRICS_TOKEN`);
  }

  return problems;
}

/** Splits a comma-separated list of origins, such as `https://www.example.com`, and checks each one. */
function parseOrigins(value: string | undefined, context: z.RefinementCtx): string[] {
  const origins = (value ?? '').split(',').map((entry) => entry.trim().replace(/\/+$/, '')).filter(Boolean);

  for (const origin of origins) {
    const parsed = URL.canParse(origin) ? new URL(origin) : undefined;
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      context.addIssue({
        code: 'custom',
        message: `"${origin}" is not an origin: give the scheme and host only (and a port if not the default), such as https://www.example.com`,
      });
    }
  }
  return origins;
}

/** Reads TRUST_PROXY as Express's `trust proxy` setting: a hop count, true/false, or a list of addresses. */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Returns the folder that contains package.json, both from `src/` and from the compiled `dist/src/`. */
export function projectRoot(): string {
  let folder = path.dirname(new URL(import.meta.url).pathname);
  while (!existsSync(path.join(folder, 'package.json')) && folder !== path.dirname(folder)) {
    folder = path.dirname(folder);
  }
  return folder;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
