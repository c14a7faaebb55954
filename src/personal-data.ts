import { col, fn, Op, QueryTypes, Transaction, where, type WhereOptions } from 'sequelize';
import { endSessionsOfUser } from './auth/account-sessions.ts';
import type { AppContext } from './context.ts';
import { normaliseEmail } from './subscriber-input.ts';

// Data-protection requests: everything stored about one person (an access request) and deleting it
// (an erasure request). A person is found by email address, without regard to case, or by subscriber id.

/** The person a request is about: an email address as the person gives it, or a subscriber's id. */
export type PersonSelector = { email: string } | { subscriberId: string };

/** Everything stored about one person, as plain JSON-ready objects. No password hash or token hash is included. */
export interface PersonalDataReport {
  exported_at: string;
  /** The addresses searched for: the one asked about, and the account's when the account is linked by id. */
  emails: string[];
  subscribers: Array<Record<string, unknown>>;
  users: Array<Record<string, unknown>>;
  email_deliveries: Array<Record<string, unknown>>;
  /** Set-password and reset links sent to the account: purpose and times, without the token's hash. */
  password_tokens: Array<Record<string, unknown>>;
}

export interface DeleteOptions {
  /** Also delete the linked account (and every delivery to it). Staff accounts are never deleted this way. */
  withAccount?: boolean;
  /** Count what would be deleted, then roll back. */
  dryRun?: boolean;
}

export interface DeletionSummary {
  subscriberIds: string[];
  deliveries: number;
  deletedUserIds: string[];
  /** Accounts left in place because `withAccount` was not set. */
  keptUserIds: string[];
}

/** The person has no subscriber or account here, or the request would delete a staff account. */
export class PersonalDataError extends Error {
  constructor(
    readonly code: 'person_not_found' | 'staff_account',
    message: string,
  ) {
    super(message);
    this.name = 'PersonalDataError';
  }
}

interface Person {
  emails: string[];
  subscriberIds: string[];
  userIds: string[];
}

/** Collects every subscriber row, account (without its password hash), delivery and password link stored about a person. */
export async function exportPersonalData(context: AppContext, selector: PersonSelector): Promise<PersonalDataReport> {
  return context.database.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.REPEATABLE_READ }, async (transaction) => {
    const person = await findPerson(context, selector, transaction, false);
    const { WaitlistSubscriber, User, EmailDelivery, PasswordToken } = context.models;

    const subscribers = await WaitlistSubscriber.findAll({ where: { id: person.subscriberIds }, order: [['id', 'ASC']], raw: true, transaction });
    // The User model's default scope already leaves password_hash out; the explicit exclude keeps it out if that scope changes.
    const users = await User.findAll({ where: { id: person.userIds }, attributes: { exclude: ['password_hash'] }, order: [['id', 'ASC']], raw: true, transaction });
    const deliveries = await EmailDelivery.findAll({ where: deliveriesOf(person, true), order: [['id', 'ASC']], raw: true, transaction });
    const tokens = await PasswordToken.findAll({ where: { user_id: person.userIds }, attributes: { exclude: ['token_hash'] }, order: [['id', 'ASC']], raw: true, transaction });

    return {
      exported_at: context.now().toISOString(),
      emails: person.emails,
      subscribers: subscribers as unknown as Array<Record<string, unknown>>,
      users: users as unknown as Array<Record<string, unknown>>,
      email_deliveries: deliveries as unknown as Array<Record<string, unknown>>,
      password_tokens: tokens as unknown as Array<Record<string, unknown>>,
    };
  });
}

/**
 * Deletes a person's subscriber row and its deliveries, and with `withAccount` their account, its deliveries,
 * its sign-in sessions and (by the foreign key's cascade) its password links too, in one transaction. The subscriber row is locked first, so a processor working on it
 * finishes before the delete and no account is created afterwards.
 */
export async function deletePersonalData(context: AppContext, selector: PersonSelector, options: DeleteOptions = {}): Promise<DeletionSummary> {
  const transaction = await context.database.sequelize.transaction();
  let summary: DeletionSummary;
  try {
    summary = await deleteInTransaction(context, selector, options.withAccount === true, transaction);
  } catch (error) {
    await transaction.rollback();
    throw error;
  }

  if (options.dryRun) {
    await transaction.rollback();
    return summary;
  }
  await transaction.commit();
  context.logger.info({ ...summary }, 'personal data deleted');
  return summary;
}

async function deleteInTransaction(context: AppContext, selector: PersonSelector, withAccount: boolean, transaction: Transaction): Promise<DeletionSummary> {
  const person = await findPerson(context, selector, transaction, true);
  const deleteAccounts = withAccount && person.userIds.length > 0;
  if (deleteAccounts) await rejectStaffAccounts(context, person.userIds, transaction);

  // TODO: welcome emails saved as files in the outbox folder (when no SMTP server is configured) are not removed.
  const { WaitlistSubscriber, User, EmailDelivery } = context.models;
  const deliveries = await EmailDelivery.destroy({ where: deliveriesOf(person, deleteAccounts), transaction });
  await WaitlistSubscriber.destroy({ where: { id: person.subscriberIds }, transaction });
  if (deleteAccounts) {
    for (const userId of person.userIds) await endSessionsOfUser(context, userId, { transaction });
    await User.destroy({ where: { id: person.userIds }, transaction });
  }

  return {
    subscriberIds: person.subscriberIds,
    deliveries,
    deletedUserIds: deleteAccounts ? person.userIds : [],
    keptUserIds: deleteAccounts ? [] : person.userIds,
  };
}

/**
 * Finds the person's subscriber rows and accounts: those with the address (any case), and the account a
 * subscriber is linked to even when its address differs. `lock` locks the subscriber rows for update.
 */
async function findPerson(context: AppContext, selector: PersonSelector, transaction: Transaction, lock: boolean): Promise<Person> {
  const { WaitlistSubscriber } = context.models;
  const lockOption = lock ? { lock: Transaction.LOCK.UPDATE } : {};

  const subscribers =
    'subscriberId' in selector
      ? await WaitlistSubscriber.findAll({ where: { id: selector.subscriberId }, transaction, ...lockOption })
      : await WaitlistSubscriber.findAll({ where: emailMatches(lookupAddress(selector.email)), transaction, ...lockOption });

  // One entry per address without regard to case, the stored spelling first.
  const emails = new Map<string, string>(subscribers.map((subscriber) => [subscriber.email.toLowerCase(), subscriber.email]));
  if ('email' in selector && !emails.has(lookupAddress(selector.email).toLowerCase())) {
    emails.set(lookupAddress(selector.email).toLowerCase(), lookupAddress(selector.email));
  }

  const linkedIds = subscribers.map((subscriber) => subscriber.user_id).filter((id): id is string => id !== null);
  const users = await context.models.User.findAll({
    attributes: ['id', 'email'],
    where: { [Op.or]: [{ id: linkedIds }, ...[...emails.values()].map((email) => emailMatches(email))] },
    transaction,
  });

  if (subscribers.length === 0 && users.length === 0) {
    const description = 'email' in selector ? 'that email address' : `subscriber id ${selector.subscriberId}`;
    throw new PersonalDataError('person_not_found', `No subscriber or account matches ${description}; check the address or id.`);
  }
  return { emails: [...emails.values()], subscriberIds: subscribers.map((subscriber) => subscriber.id), userIds: users.map((user) => user.id) };
}

/** Deliveries about the person: the subscriber's own, and with `includeAccount` the account's and any sent to the address. */
function deliveriesOf(person: Person, includeAccount: boolean): WhereOptions {
  const conditions: WhereOptions[] = [{ subscriber_id: person.subscriberIds }];
  if (includeAccount) {
    conditions.push({ user_id: person.userIds });
    conditions.push(...person.emails.map((email) => emailMatches(email, 'recipient')));
  }
  return { [Op.or]: conditions };
}

async function rejectStaffAccounts(context: AppContext, userIds: string[], transaction: Transaction) {
  const staff = await context.database.sequelize.query<{ id: string }>(
    'SELECT id FROM users WHERE id = ANY($1::bigint[]) AND (is_staff OR is_superuser)',
    { bind: [userIds], type: QueryTypes.SELECT, transaction },
  );
  if (staff.length > 0) {
    throw new PersonalDataError(
      'staff_account',
      `The linked account ${staff.map((user) => user.id).join(', ')} is a staff account; remove its staff rights first, or delete without the account.`,
    );
  }
}

/** Returns the stored form of an address when it follows the rules (so an IDN domain matches its ASCII form), else the trimmed text. */
function lookupAddress(email: string): string {
  const normalised = normaliseEmail(email);
  return normalised.ok ? normalised.value : email.trim();
}

// Both sides go through PostgreSQL's lower(), the same function as the unique index on lower(email).
function emailMatches(email: string, column = 'email'): WhereOptions {
  return where(fn('lower', col(column)), fn('lower', email));
}
