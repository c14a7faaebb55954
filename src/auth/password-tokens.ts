import { createHash, randomBytes } from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import type { AppContext } from '../context.ts';
import { AuthError } from './auth-error.ts';
import type { PasswordToken } from '../../models/index.ts';
import type { PasswordTokenPurpose } from '../../models/password-token.ts';

/** 32 random bytes (256 bits), written as 43 base64url characters. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** SHA-256 in hex. A token carries 256 random bits, so a fast hash is enough: there is nothing to guess. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a one-time token for `userId` and returns it; only its hash is stored. */
export async function createPasswordToken(
  context: AppContext,
  userId: string,
  purpose: PasswordTokenPurpose,
  expiresAt: Date,
  transaction: Transaction,
): Promise<string> {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  await context.models.PasswordToken.create(
    { user_id: userId, purpose, token_hash: hashToken(token), created_at: context.now(), expires_at: expiresAt, used_at: null, revoked_at: null },
    { transaction },
  );
  return token;
}

/**
 * Returns the token's row when the link may still be used, and throws `invalid_token` or `token_expired` otherwise.
 * Reading a token never uses it up, so opening a link (as mail scanners do) leaves it valid.
 */
export async function findUsableToken(context: AppContext, purpose: PasswordTokenPurpose, token: unknown): Promise<PasswordToken> {
  const invalid = new AuthError(
    'invalid_token',
    'This link is not valid: it was already used, or a newer email replaced it. Use the link in your latest email, or ask for a new one with "Forgot password".',
  );
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) throw invalid;

  const row = await context.models.PasswordToken.findOne({ where: { token_hash: hashToken(token), purpose } });
  if (!row || row.used_at || row.revoked_at) throw invalid;
  if (row.expires_at.getTime() <= context.now().getTime()) {
    const welcome = purpose === 'set_password' ? ', or ask for your welcome email to be sent again' : '';
    throw new AuthError('token_expired', `This link has expired. Get a new one with "Forgot password"${welcome}.`);
  }
  return row;
}

/** Marks the token used, unless another request used or revoked it first; returns whether this call did. */
export async function consumeToken(context: AppContext, row: PasswordToken, transaction: Transaction): Promise<boolean> {
  const now = context.now();
  const [updated] = await context.models.PasswordToken.update(
    { used_at: now },
    { where: { id: row.id, used_at: null, revoked_at: null, expires_at: { [Op.gt]: now } }, transaction },
  );
  return updated === 1;
}

/** Voids every link of the user (or only those for `purpose`) that is neither used nor revoked yet. */
export async function revokeOutstandingTokens(
  context: AppContext,
  userId: string,
  transaction: Transaction,
  purpose?: PasswordTokenPurpose,
): Promise<number> {
  const [revoked] = await context.models.PasswordToken.update(
    { revoked_at: context.now() },
    { where: { user_id: userId, used_at: null, revoked_at: null, ...(purpose ? { purpose } : {}) }, transaction },
  );
  return revoked;
}
