import type { Transaction } from 'sequelize';
import type { AppContext } from '../context.ts';

/**
 * Deletes the user's sign-in sessions from `http_sessions`, except the one with id `exceptSessionId`.
 * Sessions name their user in `sess.userId` (see src/http/account-session.ts); admin panel sessions do not.
 */
export async function endSessionsOfUser(
  context: AppContext,
  userId: string,
  options: { exceptSessionId?: string; transaction?: Transaction } = {},
): Promise<number> {
  const [, result] = await context.database.sequelize.query(
    `DELETE FROM http_sessions WHERE (sess ->> 'userId') = $1 AND sid <> $2`,
    { bind: [String(userId), options.exceptSessionId ?? ''], transaction: options.transaction },
  );
  return (result as { rowCount?: number }).rowCount ?? 0;
}
