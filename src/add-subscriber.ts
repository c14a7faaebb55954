import { QueryTypes, type Transaction } from 'sequelize';
import type { AppContext } from './context.ts';
import { pooledRows } from './database/direct-sql.ts';
import { extractNameParts } from './names.ts';
import type { SubscriberInput } from './subscriber-input.ts';

/** A subscriber ready to insert: fields already normalised by subscriber-input.ts, and when they joined. */
export interface NewSubscriber extends SubscriberInput {
  created_at: Date;
}

// The unique index on lower(email) decides what a duplicate is, so concurrent signups of one address
// insert one row whatever their timing, and an existing row is never changed.
const INSERT_ONE = `
  INSERT INTO waitlist_subscribers (email, name, first_name, last_name, phone_number, source, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
  ON CONFLICT ((lower(email))) DO NOTHING
  RETURNING id`;

const INSERT_MANY = `
  INSERT INTO waitlist_subscribers (email, name, first_name, last_name, phone_number, source, created_at, updated_at)
  SELECT email, name, first_name, last_name, phone_number, source, created_at, $8::timestamptz
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
    AS row (email, name, first_name, last_name, phone_number, source, created_at)
  ON CONFLICT ((lower(email))) DO NOTHING
  RETURNING id`;

/**
 * Inserts one subscriber in a single round trip unless the address (in any case) is already on the list.
 * Returns the new id, or undefined for a duplicate. The input must come from `parseSubscriberInput`.
 */
export async function addSubscriber(context: AppContext, subscriber: NewSubscriber): Promise<string | undefined> {
  const parts = extractNameParts(subscriber.name);
  const rows = await pooledRows<{ id: string }>(context.database.sequelize, {
    name: 'insert_subscriber',
    text: INSERT_ONE,
    values: [subscriber.email, subscriber.name, parts.firstName, parts.lastName, subscriber.phone_number, subscriber.source, subscriber.created_at],
  });
  return rows[0]?.id;
}

/**
 * Inserts many subscribers in one statement, skipping addresses already on the list or earlier in the same
 * batch, and returns how many it added. `updated_at` is `now`, while `created_at` keeps each person's place in line.
 */
export async function addSubscribers(context: AppContext, subscribers: NewSubscriber[], transaction?: Transaction): Promise<number> {
  if (subscribers.length === 0) return 0;

  const parts = subscribers.map((subscriber) => extractNameParts(subscriber.name));
  const rows = await context.database.sequelize.query(INSERT_MANY, {
    bind: [
      subscribers.map((subscriber) => subscriber.email),
      subscribers.map((subscriber) => subscriber.name),
      parts.map((part) => part.firstName),
      parts.map((part) => part.lastName),
      subscribers.map((subscriber) => subscriber.phone_number),
      subscribers.map((subscriber) => subscriber.source),
      subscribers.map((subscriber) => subscriber.created_at),
      context.now(),
    ],
    type: QueryTypes.SELECT,
    transaction,
  });
  return rows.length;
}
