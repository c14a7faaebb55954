import { QueryTypes, type Transaction } from 'sequelize';
import { MIN_TEMP_PASSWORD_LENGTH } from './config.ts';
import type { AppContext } from './context.ts';
import { findUserByEmail } from './create-account.ts';
import { generateTemporaryPassword, hashPassword } from './passwords.ts';
import { usernameBase, usernameCandidate } from './usernames.ts';
import type { User } from '../models/index.ts';

/** Address of the staff account that the first start creates; `waitlist create-admin` makes real ones. */
export const FIRST_STAFF_EMAIL = 'admin@example.com';

/** Length of the passwords generated for staff accounts: longer than a temporary password, since it does not expire. */
const STAFF_PASSWORD_LENGTH = 20;

const MAX_PASSWORD_LENGTH = 128;

export interface StaffRequest {
  email: string;
  /** The password to set; when missing, a new account gets a generated one and an existing account keeps its own. */
  password?: string;
  superuser: boolean;
}

export interface StaffResult {
  user: User;
  created: boolean;
  /** The generated password, to be shown once; undefined when none was generated. */
  generatedPassword?: string;
  passwordChanged: boolean;
}

export class StaffInputError extends Error {
  readonly code = 'invalid_input';
}

/** Checks a staff password chosen by a person and returns what is wrong with it, or undefined. */
export function staffPasswordProblem(password: string): string | undefined {
  if (password.length < MIN_TEMP_PASSWORD_LENGTH) return `The password must be at least ${MIN_TEMP_PASSWORD_LENGTH} characters long.`;
  if (password.length > MAX_PASSWORD_LENGTH) return `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
  return undefined;
}

/** Creates a staff account for `email`, or makes the existing account with that email (any case) active staff. */
export async function createOrPromoteStaff(context: AppContext, request: StaffRequest): Promise<StaffResult> {
  const problem = request.password === undefined ? undefined : staffPasswordProblem(request.password);
  if (problem) throw new StaffInputError(problem);

  return context.database.sequelize.transaction((transaction) => upsertStaff(context, request, transaction));
}

/**
 * Creates the first staff account with a generated password when no active staff account exists, and returns
 * its credentials so that the caller can show them once. Returns undefined when staff exists already.
 * An advisory lock keeps two processes starting together from creating two accounts.
 */
export async function ensureFirstStaffAccount(context: AppContext): Promise<{ email: string; username: string; password: string } | undefined> {
  return context.database.sequelize.transaction(async (transaction) => {
    await context.database.sequelize.query("SELECT pg_advisory_xact_lock(hashtextextended('first-staff-account', 0))", { transaction });
    const staff = await context.models.User.count({ where: { is_staff: true, is_active: true }, transaction });
    if (staff > 0) return undefined;

    const password = generateTemporaryPassword(STAFF_PASSWORD_LENGTH);
    const result = await upsertStaff(context, { email: FIRST_STAFF_EMAIL, password, superuser: true }, transaction);
    return { email: result.user.email, username: result.user.username, password };
  });
}

async function upsertStaff(context: AppContext, request: StaffRequest, transaction: Transaction): Promise<StaffResult> {
  const email = request.email.trim();
  const existing = await findUserByEmail(context, email, transaction);

  // A new account, or one that cannot sign in yet, needs a password; an existing password is kept unless one is given.
  const needsPassword = !existing || (await hasNoPassword(context, existing.id, transaction));
  const generatedPassword = request.password === undefined && needsPassword ? generateTemporaryPassword(STAFF_PASSWORD_LENGTH) : undefined;
  const password = request.password ?? generatedPassword;
  const passwordHash = password === undefined ? undefined : await hashPassword(password, context.config.passwords.argon2);

  const flags = { is_staff: true, is_active: true, is_superuser: request.superuser };
  const credentials = passwordHash === undefined ? {} : { password_hash: passwordHash, password_expires_at: null, must_change_password: false };

  if (existing) {
    await existing.update({ ...flags, ...credentials }, { transaction });
    return { user: existing, created: false, generatedPassword, passwordChanged: passwordHash !== undefined };
  }

  const user = await context.models.User.create(
    {
      username: await freeUsername(context, email, transaction),
      email,
      password_hash: passwordHash ?? null,
      last_name: null,
      phone_number: null,
      password_expires_at: null,
      last_login: null,
      is_verified: true,
      ...flags,
    },
    { transaction },
  );
  return { user, created: true, generatedPassword, passwordChanged: true };
}

async function hasNoPassword(context: AppContext, userId: string, transaction: Transaction): Promise<boolean> {
  const user = await context.models.User.scope('withPassword').findByPk(userId, { attributes: ['id', 'password_hash'], transaction });
  return !user?.password_hash;
}

async function freeUsername(context: AppContext, email: string, transaction: Transaction): Promise<string> {
  const base = usernameBase(email);
  for (let attempt = 1; ; attempt++) {
    const candidate = usernameCandidate(base, attempt);
    const [row] = await context.database.sequelize.query<{ taken: boolean }>('SELECT EXISTS (SELECT 1 FROM users WHERE username = :candidate) AS taken', {
      replacements: { candidate },
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row.taken) return candidate;
  }
}
