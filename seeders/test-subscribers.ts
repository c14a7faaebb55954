import { fn, col, where, Op } from 'sequelize';
import type { Models } from '../models/index.ts';

/** Five made-up subscribers with varied names, phones and sources, for trying the product out. */
export const TEST_SUBSCRIBERS = [
  { email: 'ada.lovelace@example.com', name: 'Ada Lovelace', phone_number: '+442079460958', source: 'website' },
  { email: 'grace.hopper@example.com', name: 'Grace Brewster Murray Hopper', phone_number: null, source: 'referral' },
  { email: 'alan@example.org', name: 'Alan', phone_number: '+14155550123', source: 'social_media' },
  { email: 'katherine.johnson@example.net', name: null, phone_number: null, source: 'newsletter' },
  { email: 'Linus.Torvalds@Example.com', name: '  Linus   Benedict  Torvalds ', phone_number: '+358401234567', source: 'email_campaign' },
] as const;

/** Adds the test subscribers that are not on the list yet and returns how many it added. */
export async function seedTestSubscribers(models: Pick<Models, 'WaitlistSubscriber'>): Promise<number> {
  const emails = TEST_SUBSCRIBERS.map((subscriber) => subscriber.email.toLowerCase());
  const present = await models.WaitlistSubscriber.findAll({
    attributes: ['email'],
    where: where(fn('lower', col('email')), { [Op.in]: emails }),
  });
  const known = new Set(present.map((subscriber) => subscriber.email.toLowerCase()));

  const missing = TEST_SUBSCRIBERS.filter((subscriber) => !known.has(subscriber.email.toLowerCase()));
  await models.WaitlistSubscriber.bulkCreate(
    missing.map((subscriber) => ({ ...subscriber })),
    { individualHooks: true },
  );
  return missing.length;
}
