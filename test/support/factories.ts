import type { AppContext } from '../../src/context.ts';
import type { WaitlistSubscriber } from '../../models/index.ts';

let sequence = 0;

type SubscriberFields = Partial<Pick<WaitlistSubscriber, 'email' | 'name' | 'phone_number' | 'source' | 'created_at'>>;

/** Adds a subscriber with a unique address; each later call is younger by one second unless `created_at` says otherwise. */
export async function makeSubscriber(context: AppContext, overrides: SubscriberFields = {}): Promise<WaitlistSubscriber> {
  sequence += 1;
  return context.models.WaitlistSubscriber.create({
    email: `person${sequence}-${process.pid}@example.com`,
    name: `Person ${sequence}`,
    phone_number: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)),
    ...overrides,
  } as never);
}
